/**
 * The operations CLI as a child process: --help, `lockstep config` (secrets masked), a clear message and
 * exit code 2 for each bad setting, `lockstep audit`, and `lockstep user logoff` ending a live token of a
 * server running on the same store (SQLite; a cluster node on PostgreSQL + Redis), as that server answers
 * over HTTP and on its channel.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENV_NAMES } from '../src/config.ts';
import { SETTINGS } from '../src/cli/settings.ts';
import { api } from './helpers/api.ts';
import { automationToken, bearer, Browser, signIn } from './helpers/browser.ts';
import { isTokenRevoked, openChannel } from './helpers/channel.ts';
import { killRunningClis, runCli, startCli, stopCli, type StartedCli } from './helpers/cli.ts';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { tokenStatus } from './helpers/flows.ts';
import { clusterProblem, freePort, freshPostgresDatabase, requireService, startRedisServer, stopRedisServer } from './helpers/services.ts';
import { DEMO_PASSWORD as CLUSTER_DEMO_PASSWORD } from './helpers/test-server.ts';

const STACK_FRAME = /^\s+at .+[(:]\d+/m;
const DEMO_PASSWORD = 'cli-test-demo-password';
const DEMO_SECRET = 'cli-test-demo-client-secret';

describe('lockstep --help and lockstep config', () => {
  test('--help prints every command and every environment variable, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['audit', '--help']]) {
      const { code, stdout } = await runCli(args, {});
      assert.equal(code, 0, args.join(' '));
      for (const command of ['lockstep start', 'lockstep config', 'lockstep org create --name NAME --admin-email EMAIL', 'lockstep user logoff EMAIL', 'lockstep audit [--since DURATION|ISO]']) {
        assert.ok(stdout.includes(command), `${args.join(' ')}: usage names "${command}"`);
      }
      for (const name of ENV_NAMES) assert.match(stdout, new RegExp(`^ {2}${name} `, 'm'), `usage lists ${name}`);
    }
  });

  test('every variable the configuration reads is shown by config and --help', () => {
    assert.deepEqual(SETTINGS.map((s) => s.name).sort(), [...ENV_NAMES].sort());
  });

  test('config prints every variable with its value and whether it is the default; secrets are masked', async () => {
    const secrets = { password: 'demo-pw-4kq9', clientSecret: 'client-secret-7zv2', metrics: 'metrics-token-x81', db: 'db-pw-55tt', redis: 'redis-pw-0qq3' };
    const { code, stdout, stderr } = await runCli(['config'], {
      PORT: '9443', LOCKSTEP_ISSUER: 'https://login.example.test', LOG_LEVEL: 'debug',
      LOCKSTEP_DEMO_PASSWORD: secrets.password, LOCKSTEP_DEMO_CLIENT_SECRET: secrets.clientSecret, LOCKSTEP_METRICS_TOKEN: secrets.metrics,
      LOCKSTEP_DATABASE_URL: `postgres://lockstep:${secrets.db}@db.internal:5432/lockstep?sslmode=require`,
      LOCKSTEP_REDIS_URL: `redis://:${secrets.redis}@cache.internal:6379`,
    });
    assert.equal(code, 0, stderr);
    for (const secret of Object.values(secrets)) assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `"${secret}" is not printed`);
    const rows = new Map(stdout.trim().split('\n').map((line) => {
      const [name, ...rest] = line.trim().split(/\s{2,}/);
      return [name!, { value: rest.slice(0, -1).join('  '), source: rest.at(-1) }];
    }));
    for (const name of ENV_NAMES) assert.ok(rows.has(name), `config shows ${name}`);
    assert.deepEqual(rows.get('PORT'), { value: '9443', source: 'set' });
    assert.deepEqual(rows.get('HOST'), { value: '127.0.0.1', source: 'default' });
    assert.deepEqual(rows.get('LOCKSTEP_ISSUER'), { value: 'https://login.example.test', source: 'set' });
    assert.deepEqual(rows.get('LOG_LEVEL'), { value: 'debug', source: 'set' });
    assert.deepEqual(rows.get('LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS'), { value: '300', source: 'default' });
    assert.equal(rows.get('LOCKSTEP_DATABASE_URL')?.value, 'postgres://lockstep:********@db.internal:5432/lockstep?sslmode=require');
    assert.equal(rows.get('LOCKSTEP_REDIS_URL')?.value, 'redis://:********@cache.internal:6379');
    for (const name of ['LOCKSTEP_DEMO_PASSWORD', 'LOCKSTEP_DEMO_CLIENT_SECRET', 'LOCKSTEP_METRICS_TOKEN']) {
      assert.deepEqual(rows.get(name), { value: '********', source: 'set' }, name);
    }
  });

  test('an unknown LOCKSTEP_ variable is named as a likely typo, and ignored', async () => {
    const { code, stderr } = await runCli(['config'], { LOCKSTEP_ISUER: 'https://typo.example.test' });
    assert.equal(code, 0);
    assert.match(stderr, /LOCKSTEP_ISUER is not a Lockstep setting/);
  });
});

describe('bad configuration: a message naming the variable, exit code 2, no stack trace, nothing started', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-config-'));
  const notPem = join(dataDir, 'not-a-certificate.pem');
  writeFileSync(notPem, 'this is not PEM\n');
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const cases: [string, Record<string, string>, RegExp][] = [
    ['a port out of range', { PORT: '70000' }, /PORT must be an integer from 0 to 65535, got "70000"/],
    ['an issuer that is not a URL', { LOCKSTEP_ISSUER: 'login.example.test' }, /LOCKSTEP_ISSUER is not a URL \("login\.example\.test"\)/],
    ['an issuer that is not http(s)', { LOCKSTEP_ISSUER: 'ftp://login.example.test' }, /LOCKSTEP_ISSUER must start with https:\/\/ or http:\/\//],
    ['an issuer with a query', { LOCKSTEP_ISSUER: 'https://login.example.test/?tenant=1' }, /LOCKSTEP_ISSUER must have no query or fragment/],
    ['an issuer with a fragment', { LOCKSTEP_ISSUER: 'https://login.example.test/#x' }, /LOCKSTEP_ISSUER must have no query or fragment/],
    ['a database URL of another database', { LOCKSTEP_DATABASE_URL: 'mysql://db/lockstep' }, /LOCKSTEP_DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    ['a Redis URL that is not redis', { LOCKSTEP_DATABASE_URL: 'postgres://db/lockstep', LOCKSTEP_REDIS_URL: 'http://cache:6379' }, /LOCKSTEP_REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/],
    ['an on/off setting that is neither', { LOCKSTEP_DEMO: 'maybe' }, /LOCKSTEP_DEMO must be on or off/],
    ['a certificate file that is not there', { LOCKSTEP_TLS_CERT: join(dataDir, 'missing.pem'), LOCKSTEP_TLS_KEY: notPem }, /LOCKSTEP_TLS_CERT \S+missing\.pem cannot be read: ENOENT/],
    ['a certificate file that is not PEM', { LOCKSTEP_TLS_CERT: notPem, LOCKSTEP_TLS_KEY: notPem }, /LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY must be a PEM certificate and its private key/],
    ['a data directory under a file', { LOCKSTEP_DATA_DIR: join(notPem, 'data') }, /LOCKSTEP_DATA_DIR \S+ cannot be created: \S+not-a-certificate\.pem is not a directory/],
  ];
  for (const [what, env, message] of cases) {
    test(what, async () => {
      const { code, stdout, stderr } = await runCli(['start'], { PORT: '0', LOCKSTEP_DATA_DIR: join(dataDir, 'data'), LOG_LEVEL: 'warn', ...env });
      assert.equal(code, 2, `exit code 2 (stderr: ${stderr})`);
      assert.match(stderr, message);
      assert.match(stderr, /^lockstep: /m);
      assert.doesNotMatch(stderr, STACK_FRAME, 'no stack trace');
      assert.doesNotMatch(stdout, /Lockstep is running/);
    });
  }

  test('several bad settings are all named at once', async () => {
    const { code, stderr } = await runCli(['start'], { PORT: 'abc', LOG_LEVEL: 'loud', LOCKSTEP_ISSUER: 'https://x.test?a', LOCKSTEP_DATA_DIR: join(dataDir, 'data') });
    assert.equal(code, 2);
    assert.match(stderr, /the configuration has 3 problems/);
    for (const name of ['PORT', 'LOG_LEVEL', 'LOCKSTEP_ISSUER']) assert.match(stderr, new RegExp(`^ {2}- ${name} `, 'm'));
    assert.doesNotMatch(stderr, STACK_FRAME);
  });
});

describe('lockstep user logoff and lockstep audit, beside a running server on the same store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-ops-'));
  let server: StartedCli;
  const cli = (args: string[]) => runCli(args, { LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD });

  before(async () => {
    server = await startCli({ dataDir, env: { LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET, LOCKSTEP_DEMO_CRM_PORT: 'off' } });
  });
  after(async () => {
    if (server) await stopCli(server);
    killRunningClis();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('user logoff ends the live token at once: the running server answers 401 admin_logoff, tells the channel, sends the back-channel logout', async () => {
    const browser = new Browser();
    const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
    const token = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    await signIn(server.url, browser, { clientId: 'crm-backend', clientSecret: DEMO_SECRET }); // the same sign-in session: owed a back-channel logout
    assert.equal(await tokenStatus(server.url, token), 200, 'live, and held in the server\'s memory from here on');
    const channel = await openChannel(server.url, token);

    const { code, stdout, stderr } = await cli(['user', 'logoff', 'agent@demo.test', '--org', 'demo']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Logged off agent@demo\.test/);
    assert.match(stdout, /access tokens\s+2 \((agent-desktop, crm-backend|crm-backend, agent-desktop)\)/);

    // The CLI returned: the server refuses the token now, not at some later point.
    const refused = await fetch(server.url + '/api/v2/tokens/me', { headers: bearer(token) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /code="token\.revoked", reason="admin_logoff"/);
    const told = await channel.next(isTokenRevoked);
    assert.equal(told.eventBody.reason, 'admin_logoff');
    assert.equal((await channel.closed).code, 4001);

    // The running server delivers what the CLI queued in the outbox (crm-backend's receiver is the demo's own route).
    const call = api(server.url);
    const admin = await automationToken(server.url, DEMO_SECRET);
    const logoff = (await call('GET', '/api/v2/audits?kind=admin_logoff', admin)).body.entities[0];
    const [queued] = logoff.details.backchannelLogouts as { clientId: string; jti: string }[];
    assert.equal(queued?.clientId, 'crm-backend');
    const deadline = Date.now() + 15_000;
    for (;;) {
      const attempts = (await call('GET', '/api/v2/audits?kind=backchannel_logout', admin)).body.entities as { details: { jti: string; outcome: string } }[];
      const delivered = attempts.find((e) => e.details.jti === queued!.jti && e.details.outcome === 'delivered');
      if (delivered) break;
      assert.ok(Date.now() < deadline, `no delivered back-channel logout within 15 s: ${JSON.stringify(attempts)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test('user logoff refuses an unknown user and a user of another org, exit 1, nothing ended', async () => {
    const unknown = await cli(['user', 'logoff', 'nobody@demo.test']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No user with email nobody@demo\.test/);
    const otherOrg = await cli(['user', 'logoff', 'agent2@demo.test', '--org', 'not-this-org']);
    assert.equal(otherOrg.code, 1);
    assert.match(otherOrg.stderr, /No user with email agent2@demo\.test in organization not-this-org/);
    const bare = await cli(['user', 'logoff']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /user logoff needs the email of one user/);
  });

  test('audit --since prints the entries of that span, oldest first: the sign-in and the CLI logoff', async () => {
    const { code, stdout, stderr } = await cli(['audit', '--since', '1h', '--user', 'agent@demo.test']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    const kinds = lines.slice(0, -1).map((l) => l.split(/\s{2,}/)[1]);
    assert.deepEqual(kinds, ['login', 'admin_logoff', 'backchannel_logout']);
    assert.match(lines[1]!, /user agent@demo\.test {2}client - {2}.*"actor":\{"cli":"lockstep user logoff"/);
    assert.match(lines[2]!, /client crm-backend {2}.*"outcome":"delivered"/);
    assert.match(lines.at(-1)!, /^\(3 entries since \d{4}-\d\d-\d\dT/);
    for (const line of lines.slice(0, -1)) assert.ok(!Number.isNaN(Date.parse(line.slice(0, 24))), `starts with an ISO time: ${line}`);

    const org = await cli(['audit', '--since', '2h', '--org', 'demo', '--kind', 'admin_logoff', '--limit', '5']);
    assert.equal(org.code, 0, org.stderr);
    assert.equal(org.stdout.trim().split('\n').length, 2, org.stdout);
    assert.match(org.stdout, /admin_logoff/);

    const future = await cli(['audit', '--since', '2099-01-01T00:00:00Z', '--org', 'demo']);
    assert.equal(future.code, 0);
    assert.match(future.stdout, /^\(0 entries since 2099-01-01T00:00:00\.000Z\)$/m);

    const bad = await cli(['audit', '--since', 'yesterday', '--org', 'demo']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since must be a duration \(90s, 30m, 12h, 7d, 2w\) or an ISO-8601 time/);
  });
});

const problem = await clusterProblem();

describe('lockstep user logoff beside a cluster node (PostgreSQL + Redis)', requireService('PostgreSQL and redis-server', problem), () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let redis: ChildProcess;
  let redisUrl: string;
  let cluster: Cluster;

  before(async () => {
    db = await freshPostgresDatabase();
    const port = await freePort();
    redis = await startRedisServer(port);
    redisUrl = `redis://127.0.0.1:${port}`;
    cluster = await startCluster(['a'], { databaseUrl: db.url, redisUrl });
  });
  after(async () => {
    await cluster?.stop();
    await stopRedisServer(redis);
    await db?.drop();
  });

  test('the node refuses the token once the CLI returns, and its channel is told', async () => {
    const [node] = cluster.nodes;
    const agent = { username: 'agent2@demo.test', password: CLUSTER_DEMO_PASSWORD };
    const token = (await signIn(cluster.issuer, new Browser(), { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    assert.equal(await tokenStatus(node!.url, token), 200);
    const channel = await openChannel(node!.url, token);

    const { code, stdout, stderr } = await runCli(['user', 'logoff', 'agent2@demo.test'], {
      LOCKSTEP_DATABASE_URL: db.url, LOCKSTEP_REDIS_URL: redisUrl, LOCKSTEP_ISSUER: cluster.issuer,
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /access tokens\s+1 \(agent-desktop\)/);
    const refused = await fetch(node!.url + '/api/v2/tokens/me', { headers: bearer(token) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /reason="admin_logoff"/);
    assert.equal((await channel.next(isTokenRevoked)).eventBody.reason, 'admin_logoff');
    assert.equal((await channel.closed).code, 4001);
  });
});
