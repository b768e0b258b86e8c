// npm run fuzz [-- --requests N --seconds S --seed X --concurrency C --index I --route SUBSTRING]
//
// Starts the real server (temp data dir, demo seeded), takes real credentials (automation's client-credentials
// token = admin, agent@demo.test signed in through the login form = agent), walks Fastify's route table and
// sends every route mutated versions of valid requests built from its schemas, with no token, a bad or
// revoked token, the agent's and the admin's. /healthz is probed every second throughout. Exits non-zero on
// any 5xx, a request the server never answered, or a failed health probe.
//
// Request i is built from (seed, i) alone: `--seed X --index I` sends that one request again and prints it.
// Fuzz traffic comes from 127.0.0.2 so the login throttle it trips never delays the fuzzer's own sign-ins.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { build, draftFor, MUTATION_NAMES, Rng, rngFor, type AuthKind, type Built, type FuzzState } from './fuzz-gen.ts';
import { installRouteRecorder, routeTable, type FuzzRoute } from './fuzz-routes.ts';

installRouteRecorder();
// Imported after the recorder is in place: they load src/http/server.ts.
const { configFromEnv } = await import('../src/config.ts');
const { startServer } = await import('../src/server.ts');
const { DEMO_PASSWORD, DEMO_SECRET } = await import('../test/helpers/test-server.ts');
const { Browser, signIn, automationToken } = await import('../test/helpers/browser.ts');

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    index: { type: 'string' },
    route: { type: 'string' },
    'timeout-ms': { type: 'string', default: '30000' },
    verbose: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(opts.requests);
const SECONDS = Number(opts.seconds);
const SEED = opts.seed != null ? Number(opts.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const CONCURRENCY = Number(opts.concurrency);
const TIMEOUT_MS = Number(opts['timeout-ms']);
const ONLY_INDEX = opts.index != null ? Number(opts.index) : null;
const FUZZ_SOURCE = '127.0.0.2';
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const log = (s: string) => console.log(s);

// ------------------------------------------------------------------------------------------------
// The server, with its error log captured (an unhandled error is logged with the request id, which
// is also the contextId of the 500 answer).
// ------------------------------------------------------------------------------------------------

const serverErrors: { reqId?: string; msg: string; line: string }[] = [];
const logStream = {
  write(line: string) {
    try {
      const j = JSON.parse(line) as { reqId?: string; msg?: string; err?: { message?: string } };
      serverErrors.push({ reqId: j.reqId, msg: `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`, line });
    } catch {
      serverErrors.push({ msg: line.slice(0, 200), line });
    }
  },
};
const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-fuzz-'));
const server = await startServer(configFromEnv({
  PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET, LOG_LEVEL: 'error',
}), { log: pino({ level: 'error' }, logStream) });
const base = server.url;
// The server's side of every fuzz connection, to see which are still open once the client side is gone.
const fuzzSockets = new Set<import('node:net').Socket>();
server.http.server.on('connection', (socket: import('node:net').Socket) => {
  if (socket.remoteAddress !== FUZZ_SOURCE && socket.remoteAddress !== `::ffff:${FUZZ_SOURCE}`) return;
  fuzzSockets.add(socket);
  socket.on('close', () => fuzzSockets.delete(socket));
});
/** Closes the server; false when close() had not finished after 15 s (something holds it open). */
async function closeServer(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    server.close().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000))),
  ]);
  clearTimeout(timer);
  rmSync(dataDir, { recursive: true, force: true });
  return closed;
}
const { port } = new URL(base);
const table = routeTable(server.http);
let routes: FuzzRoute[] = table.routes;
if (opts.route) routes = routes.filter((r) => `${r.method} ${r.url}`.includes(opts.route!));
const withSchema = routes.filter((r) => r.schema && ['params', 'querystring', 'body'].some((k) => k in r.schema!)).length;
log(`lockstep fuzz: server ${base}, ${table.routes.length} routes (${table.recorded} with recorded options, ${withSchema} with a params/querystring/body schema)` +
  `${opts.route ? `, ${routes.length} selected by --route` : ''}; seed ${SEED}`);
if (!routes.length) throw new Error('no routes to fuzz');
if (!table.recorded) log('WARNING: no route schemas were recorded (the fastify shim did not load); only schema-less mutations will be meaningful');

// ------------------------------------------------------------------------------------------------
// Credentials and the things valid requests refer to, kept alive while the fuzz revokes and deletes them.
// ------------------------------------------------------------------------------------------------

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method, headers: { ...bearer(token), ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
const live = async (token: string) => token !== '' && (await call('HEAD', '/api/v2/tokens/me?preserveIdleTTL=true', token)).status === 200;

const VICTIM_PASSWORD = 'fuzz-victim-password';
const renewals = { admin: 0, agent: 0, sacrificial: 0, victims: 0, channels: 0, failures: 0 };
const s: FuzzState = {
  demoSecret: DEMO_SECRET, agentId: '', agentToken: '', agentIdToken: '', agentRefresh: '', adminToken: '', revoked: [], sacrificialToken: '',
  victimUsers: [], victimPassword: VICTIM_PASSWORD, victimClients: [], victimGroups: [], demoUserIds: [], demoClientIds: [], channels: {},
  presenceDefinitionIds: [], paths: [...new Set(table.routes.filter((r) => r.url !== '*').map((r) => r.url.replace(/:(\w+)/g, 'x')))],
};
const retire = (token: string) => {
  if (token) s.revoked = [...s.revoked.slice(-20), token];
};

async function ensureAdmin() {
  if (await live(s.adminToken)) return;
  retire(s.adminToken);
  s.adminToken = await automationToken(base, DEMO_SECRET);
  renewals.admin++;
}
async function ensureAgent() {
  if (await live(s.agentToken)) return;
  retire(s.agentToken);
  const { tokens } = await signIn(base, new Browser(), { clientId: 'agent-desktop' }, { username: 'agent@demo.test', password: DEMO_PASSWORD });
  s.agentToken = tokens.access_token;
  s.agentIdToken = tokens.id_token ?? '';
  s.agentRefresh = tokens.refresh_token ?? '';
  s.agentId = (await call('GET', '/api/v2/users/me', s.agentToken)).json.id;
  renewals.agent++;
}
async function ensureSacrificial() {
  if (await live(s.sacrificialToken)) return;
  retire(s.sacrificialToken);
  s.sacrificialToken = await automationToken(base, DEMO_SECRET);
  renewals.sacrificial++;
}
let victimSerial = 0;
async function ensureVictims() {
  const keep = async <T extends { id: string } | string>(list: T[], kind: string, want: number, create: () => Promise<T>) => {
    const next: T[] = [];
    for (const v of list) {
      const id = typeof v === 'string' ? v : v.id;
      if ((await call('GET', `/api/v2/${kind}/${encodeURIComponent(id)}`, s.adminToken)).status === 200) next.push(v);
    }
    while (next.length < want) {
      next.push(await create());
      renewals.victims++;
    }
    return next;
  };
  s.victimUsers = await keep(s.victimUsers, 'users', 3, async () => {
    const email = `fuzz-victim-${victimSerial++}-${SEED}@demo.test`;
    const r = await call('POST', '/api/v2/users', s.adminToken, { email, name: 'Fuzz Victim', password: VICTIM_PASSWORD, roles: ['agent'] });
    if (r.status !== 201) throw new Error(`creating a victim user answered ${r.status} ${JSON.stringify(r.json)}`);
    return { id: r.json.id as string, email };
  });
  s.victimClients = await keep(s.victimClients, 'oauth/clients', 2, async () => {
    const confidential = !s.victimClients.some((c) => c.secret) && victimSerial++ % 2 === 0;
    const r = await call('POST', '/api/v2/oauth/clients', s.adminToken, confidential
      ? { name: 'Fuzz Victim CC', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'] }
      : { name: 'Fuzz Victim SPA', type: 'public', redirectUris: ['http://127.0.0.1/callback'], grantTypes: ['authorization_code'], loopbackAnyPort: true });
    if (r.status !== 201) throw new Error(`creating a victim client answered ${r.status} ${JSON.stringify(r.json)}`);
    return { id: r.json.id as string, secret: (r.json.secret as string | undefined) ?? null };
  });
  s.victimGroups = await keep(s.victimGroups, 'groups', 2, async () => {
    const r = await call('POST', '/api/v2/groups', s.adminToken, { name: `Fuzz Victim ${victimSerial++}` });
    if (r.status !== 201 && r.status !== 200) throw new Error(`creating a victim group answered ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.id as string;
  });
}
async function ensureChannels() {
  for (const [kind, token] of [['agent', s.agentToken], ['admin', s.adminToken]] as [AuthKind, string][]) {
    const id = s.channels[kind];
    if (id && (await call('HEAD', `/api/v2/notifications/channels/${id}`, token)).status === 200) continue;
    const r = await call('POST', '/api/v2/notifications/channels', token);
    if (r.status === 200) {
      s.channels[kind] = r.json.id;
      renewals.channels++;
    }
  }
}
let maintaining: Promise<void> | null = null;
let lastVictimCheck = 0;
/** Renews whatever the fuzz ended; serial. */
function maintain(): Promise<void> {
  return (maintaining ??= (async () => {
    try {
      await ensureAdmin();
      await ensureAgent();
      await ensureSacrificial();
      if (performance.now() - lastVictimCheck > 2000) {
        await ensureVictims();
        lastVictimCheck = performance.now();
      }
      await ensureChannels();
    } catch (err) {
      renewals.failures++;
      if (renewals.failures <= 5) log(`  maintenance failed (${renewals.failures}): ${(err as Error).message}`);
    } finally {
      maintaining = null;
    }
  })());
}

await maintain();
if (!s.adminToken || !s.agentToken) throw new Error('could not get the admin and agent credentials');
s.demoUserIds = ((await call('GET', '/api/v2/users?pageSize=100', s.adminToken)).json.entities as { id: string; email: string }[])
  .filter((u) => u.email.endsWith('@demo.test') && !u.email.startsWith('fuzz-')).map((u) => u.id);
s.demoClientIds = ((await call('GET', '/api/v2/oauth/clients?pageSize=100', s.adminToken)).json.entities as { id: string }[]).map((c) => c.id);
s.presenceDefinitionIds = ((await call('GET', '/api/v2/presence/definitions', s.agentToken)).json?.entities ?? []).map((d: { id: string }) => d.id);
log(`credentials: admin (automation, client credentials), agent ${s.agentId} (agent@demo.test, signed in); victims: ` +
  `${s.victimUsers.length} users, ${s.victimClients.length} clients, ${s.victimGroups.length} groups`);

// ------------------------------------------------------------------------------------------------
// Sending.
// ------------------------------------------------------------------------------------------------

interface Answer {
  status: number | null;
  error?: string;
  contentType?: string;
  body: string;
  ms: number;
}

const fuzzAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, localAddress: FUZZ_SOURCE });

function send(b: Built, retry = true): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let odd = false;
    let req: ReturnType<typeof request>;
    const finish = (a: Omit<Answer, 'ms'>) => {
      if (done) return;
      done = true;
      if (odd) req?.destroy(); // its own connection: closed by the client once answered
      resolve({ ...a, ms: performance.now() - started });
    };
    try {
      const headers: Record<string, string | number> = { ...b.headers };
      if (b.body && !b.chunked) headers['content-length'] = b.body.length;
      else if (b.body && b.chunked) headers['transfer-encoding'] = 'chunked'; // Node frames a GET/HEAD/DELETE body only when told
      else if (!b.body && b.method !== 'GET' && b.method !== 'HEAD' && b.headers['content-type'] !== undefined) headers['content-length'] = 0;
      // Odd framing (a body on GET/HEAD, chunked, an upgrade, a path past the header limit) gets a connection of its own,
      // so whatever the server answers to it cannot be read as the answer to the next request on a kept-alive socket.
      odd = b.chunked || (!!b.body && (b.method === 'GET' || b.method === 'HEAD')) || b.path.length > 8000 || b.headers.upgrade !== undefined;
      req = request({
        host: '127.0.0.1', port, method: b.method, path: b.path, headers, ...(odd ? { agent: false, localAddress: FUZZ_SOURCE } : { agent: fuzzAgent }),
      });
    } catch (err) {
      return finish({ status: null, error: `client refused to send: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, body: '' });
    }
    req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    req.on('socket', (socket) => {
      const note = () => socket.localPort && lastOnPort.set(socket.localPort, b);
      if (socket.localPort) note();
      else socket.once('connect', note);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      finish({ status: res.statusCode ?? 101, body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8').slice(0, 4096) }));
      res.on('error', (err) => finish({ status: res.statusCode!, contentType: res.headers['content-type'], body: `(response cut: ${err.message})` }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      if (retry && req.reusedSocket && err.code === 'ECONNRESET') {
        done = true;
        return void send(b, false).then(resolve);
      }
      if (retry && b.method === 'HEAD' && err.code?.startsWith('HPE_')) {
        // Node's client cannot read an answer to HEAD that carries a body: send it again over a bare socket and read it as is.
        done = true;
        return void sendRaw(b).then(resolve);
      }
      finish({ status: null, error: err.code ?? err.message, body: '' });
    });
    if (b.body && b.chunked) {
      const half = Math.ceil(b.body.length / 2);
      req.write(b.body.subarray(0, half));
      req.end(b.body.subarray(half));
    } else req.end(b.body ?? undefined);
  });
}

/** The last request sent over each client port: what a server socket left open was last asked. */
const lastOnPort = new Map<number, Built>();

/** HEAD answers that carried a body anyway (a framing error: a kept-alive client reads the body as the next answer). */
const headWithBody: { n: number; example?: string } = { n: 0 };

/** The request over a bare socket; the answer's status line and whether bytes followed the head of a HEAD answer. */
function sendRaw(b: Built): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), localAddress: FUZZ_SOURCE });
    const chunks: Buffer[] = [];
    const head = [`${b.method} ${b.path} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close',
      ...Object.entries(b.headers).map(([k, v]) => `${k}: ${v}`), ...(b.body ? [`content-length: ${b.body.length}`] : []), '', ''].join('\r\n');
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    socket.on('data', (c: Buffer) => chunks.push(c));
    const done = (error?: string) => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const split = text.indexOf('\r\n\r\n');
      const after = split < 0 ? '' : text.slice(split + 4);
      if (status && after.length) {
        headWithBody.n++;
        headWithBody.example ??= `${b.method} ${b.path.slice(0, 80)}… (${b.path.length} chars) → ${text.slice(0, split).split('\r\n')[0]}, then ${after.length} body bytes: ${after.slice(0, 120)}`;
      }
      resolve(status ? { status: Number(status), body: after.slice(0, 4096), ms: performance.now() - started }
        : { status: null, error: error ?? 'closed without an answer', body: '', ms: performance.now() - started });
    };
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('close', () => done());
    socket.end(b.body ? Buffer.concat([Buffer.from(head, 'latin1'), b.body]) : Buffer.from(head, 'latin1'));
  });
}

/** The route schedule: every route, those with a params/querystring/body schema three times, in a seeded order. */
const schedule = new Rng(SEED).shuffle(routes.flatMap((r) => Array(r.schema && ['params', 'querystring', 'body'].some((k) => k in r.schema!) ? 3 : 1).fill(r) as FuzzRoute[]));
function requestFor(i: number): Built {
  const rng = rngFor(SEED, i);
  return build(draftFor(rng, s, schedule[i % schedule.length]!), s, rng);
}

// ------------------------------------------------------------------------------------------------
// Reporting helpers.
// ------------------------------------------------------------------------------------------------

function redact(b: Built): Record<string, string> {
  const headers = { ...b.headers };
  if (headers.authorization) {
    headers.authorization = headers.authorization
      .replace(s.agentToken, '<agent token>').replace(s.adminToken, '<admin token>')
      .replace(/lsat_[A-Za-z0-9_-]{40,}/g, (t) => (s.revoked.includes(t) ? '<revoked token>' : `${t.slice(0, 12)}…`));
    if (headers.authorization.length > 200) headers.authorization = headers.authorization.slice(0, 200) + `… (${headers.authorization.length} chars)`;
  }
  return headers;
}
function bodyPreview(body: Buffer | null, max = 600): string {
  if (!body) return '(none)';
  const text = body.toString('utf8');
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  const shown = printable ? JSON.stringify(text.slice(0, max)) : `hex ${body.subarray(0, max / 2).toString('hex')}`;
  return `${shown}${body.length > max ? ` … (${body.length} bytes)` : ''}`;
}
function describe(i: number, b: Built, a: Answer): string {
  const contextId = /"contextId":"([0-9a-f-]{36})"/.exec(a.body)?.[1];
  const logged = serverErrors.filter((e) => contextId && e.reqId === contextId).map((e) => e.line.slice(0, 2000));
  return [
    `  request #${i} (reproduce: npm run fuzz -- --seed ${SEED} --index ${i})`,
    `    route      ${b.route}`,
    `    mutations  ${b.mutations.join(', ')}; auth ${b.auth}`,
    `    request    ${b.method} ${b.path.length > 400 ? b.path.slice(0, 400) + `… (${b.path.length} chars)` : b.path}`,
    `    headers    ${JSON.stringify(redact(b))}`,
    `    body       ${bodyPreview(b.body)}${b.chunked ? ' (chunked)' : ''}`,
    `    answer     ${a.status ?? a.error} in ${Math.round(a.ms)} ms, ${a.contentType ?? '-'}: ${JSON.stringify(a.body.slice(0, 600))}`,
    ...logged.map((l) => `    server log ${l}`),
  ].join('\n');
}

if (ONLY_INDEX != null) {
  const b = requestFor(ONLY_INDEX);
  const a = await send(b);
  log(describe(ONLY_INDEX, b, a));
  await new Promise((r) => setTimeout(r, 1000));
  log(`    server sockets of this request still open 1 s later: ${fuzzSockets.size}`);
  const leaked = fuzzSockets.size;
  const closed = await closeServer();
  log(`    server.close() ${closed ? 'finished' : 'had NOT finished after 15 s'}`);
  process.exit(a.status != null && a.status < 500 && closed && !leaked ? 0 : 1);
}

// ------------------------------------------------------------------------------------------------
// Health probe: GET /healthz every second, from its own connection, 2 s to answer.
// ------------------------------------------------------------------------------------------------

const health = { probes: 0, failures: [] as string[], maxMs: 0 };
const probeAgent = new Agent({ keepAlive: false });
function probe(): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (why: string) => {
      health.failures.push(`${elapsed().toFixed(1)} s: ${why}`);
      resolve();
    };
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: probeAgent, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const ms = performance.now() - started;
        health.probes++;
        health.maxMs = Math.max(health.maxMs, ms);
        if (res.statusCode !== 200 || !text.includes('"ok"')) fail(`${res.statusCode} ${text.slice(0, 100)}`);
        else resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (err) => {
      health.probes++;
      fail(err.message);
    });
    req.end();
  });
}
let probing = true;
const probeLoop = (async () => {
  while (probing) {
    const next = performance.now() + 1000;
    await probe();
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
})();

// ------------------------------------------------------------------------------------------------
// The run.
// ------------------------------------------------------------------------------------------------

const statusCounts = new Map<string, number>();
const perRoute = new Map<string, Record<string, number>>();
const perMutation = new Map<string, Record<string, number>>();
const fivexx: { i: number; b: Built; a: Answer }[] = [];
const hangs: { i: number; b: Built; a: Answer }[] = [];
const transport = new Map<string, { n: number; example: string }>();
let sent = 0;
let nextIndex = 0;
const deadline = performance.now() + SECONDS * 1000;
const bump = (m: Map<string, Record<string, number>>, key: string, cls: string) => {
  const row = m.get(key) ?? {};
  row[cls] = (row[cls] ?? 0) + 1;
  m.set(key, row);
};

async function worker() {
  while (nextIndex < REQUESTS && performance.now() < deadline) {
    const i = nextIndex++;
    if (maintaining) await maintaining;
    const b = requestFor(i);
    const a = await send(b);
    sent++;
    const key = a.status != null ? String(a.status) : `no answer: ${a.error}`;
    statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
    const cls = a.status == null ? 'err' : a.status >= 500 ? '5xx' : `${Math.floor(a.status / 100)}xx`;
    bump(perRoute, b.route, cls);
    for (const m of new Set(b.mutations)) bump(perMutation, m, cls);
    if (a.status != null && a.status >= 500) {
      fivexx.push({ i, b, a });
      if (fivexx.length <= 3) log(`5xx found:\n${describe(i, b, a)}`);
    } else if (a.status == null) {
      if (a.error === 'TIMEOUT') hangs.push({ i, b, a });
      if (opts.verbose) log(`no answer #${i}: ${a.error} ${b.route} [${b.mutations.join(', ')}] ${b.method} ${b.path.slice(0, 120)}`);
      const t = transport.get(a.error!) ?? { n: 0, example: describe(i, b, a) };
      t.n++;
      transport.set(a.error!, t);
    }
    // One of the fuzzer's own credentials refused: it was revoked (logout, admin logoff, ...): renew now.
    if (a.status === 401 && (b.auth === 'agent' || b.auth === 'admin') && !b.mutations.includes('auth-oddities')) void maintain();
  }
}

const maintenanceTimer = setInterval(() => void maintain(), 1000);
let lastSent = 0;
const progressTimer = setInterval(() => {
  const rate = (sent - lastSent) / 5;
  lastSent = sent;
  const renewed = `renewed admin ${renewals.admin - 1}, agent ${renewals.agent - 1}, victims ${renewals.victims}`;
  log(`[${elapsed().toFixed(0).padStart(4)} s] ${sent}/${REQUESTS} requests (${rate.toFixed(0)}/s), 5xx ${fivexx.length}, no answer ${[...transport.values()].reduce((n, t) => n + t.n, 0)}, ` +
    `health ${health.failures.length ? `FAILED ${health.failures.length}×` : 'ok'} (${health.probes} probes, max ${Math.round(health.maxMs)} ms), ${renewed}`);
}, 5000);

await Promise.all(Array.from({ length: CONCURRENCY }, worker));
clearInterval(progressTimer);
clearInterval(maintenanceTimer);
await maintaining;
await probe(); // once more after the last request
probing = false;
await probeLoop;
fuzzAgent.destroy();
const took = elapsed();
// Every client socket is closed now; the server should have let go of its side within a moment.
await new Promise((r) => setTimeout(r, 3000));
const leakedSockets = fuzzSockets.size;
const leakedBy = new Map<string, { n: number; example: Built }>();
for (const socket of fuzzSockets) {
  const b = socket.remotePort ? lastOnPort.get(socket.remotePort) : undefined;
  const key = b ? `${b.route} [${b.mutations.join(', ')}]` : '(unknown request)';
  const entry = leakedBy.get(key) ?? { n: 0, example: b! };
  entry.n++;
  leakedBy.set(key, entry);
}
const closed = await closeServer();

// ------------------------------------------------------------------------------------------------
// Report.
// ------------------------------------------------------------------------------------------------

const pad = (x: string | number, n: number) => String(x).padEnd(n);
const lpad = (x: string | number, n: number) => String(x).padStart(n);
log(`\nFuzz finished: ${sent} requests in ${took.toFixed(0)} s (seed ${SEED}, concurrency ${CONCURRENCY}), ${routes.length} routes, ${MUTATION_NAMES.length} mutation kinds`);
log('\nStatus codes:');
log(`  ${pad('status', 44)} ${lpad('count', 7)}`);
for (const [status, n] of [...statusCounts].sort(([a], [b]) => a.localeCompare(b))) log(`  ${pad(status, 44)} ${lpad(n, 7)}`);

const cols = ['2xx', '3xx', '4xx', '5xx', 'err'];
const row = (name: string, r: Record<string, number>) =>
  `  ${pad(name, 58)} ${lpad(Object.values(r).reduce((a, b) => a + b, 0), 6)} ${cols.map((c) => lpad(r[c] ?? 0, 6)).join(' ')}`;
log('\nPer route (requests, then by status class; err = no HTTP answer):');
log(`  ${pad('route', 58)} ${lpad('total', 6)} ${cols.map((c) => lpad(c, 6)).join(' ')}`);
for (const r of routes) {
  const key = `${r.method} ${r.url}`;
  log(row(key, perRoute.get(key) ?? {}));
}
log('\nPer mutation:');
log(`  ${pad('mutation', 58)} ${lpad('total', 6)} ${cols.map((c) => lpad(c, 6)).join(' ')}`);
for (const m of ['valid', ...MUTATION_NAMES]) log(row(m, perMutation.get(m) ?? {}));

const fiveByRoute = new Map<string, number>();
for (const f of fivexx) fiveByRoute.set(f.b.route, (fiveByRoute.get(f.b.route) ?? 0) + 1);
log(`\n5xx answers: ${fivexx.length}`);
for (const [route, n] of fiveByRoute) log(`  ${pad(route, 58)} ${lpad(n, 6)}`);
for (const f of fivexx.slice(0, 20)) log(describe(f.i, f.b, f.a));
if (transport.size) {
  log('\nRequests without an HTTP answer (by error; one example each):');
  for (const [error, t] of transport) log(`  ${error}: ${t.n}\n${t.example}`);
}
if (headWithBody.n) log(`\nHEAD answers with a body (HTTP framing error; read over a bare socket): ${headWithBody.n}, e.g.\n  ${headWithBody.example}`);
const distinctErrors = new Map<string, { n: number; line: string }>();
for (const e of serverErrors) distinctErrors.set(e.msg, { n: (distinctErrors.get(e.msg)?.n ?? 0) + 1, line: distinctErrors.get(e.msg)?.line ?? e.line });
log(`\nServer error log lines: ${serverErrors.length}`);
for (const [msg, { n, line }] of distinctErrors) log(`  ${n}× ${msg.slice(0, 300)}\n     first: ${line.trim().slice(0, 600)}`);
log(`\nCredentials renewed during the run (the fuzz logged them out, deleted or revoked them): admin ${renewals.admin - 1}, agent ${renewals.agent - 1}, ` +
  `revoke/introspect token ${renewals.sacrificial - 1}, victim users/clients/groups ${renewals.victims}, channels ${renewals.channels}, maintenance failures ${renewals.failures}`);
log(`/healthz: ${health.failures.length ? `FAILED ${health.failures.length} of ${health.probes} probes` : `answered all ${health.probes} probes`} (max ${Math.round(health.maxMs)} ms)`);
for (const f of health.failures.slice(0, 10)) log(`  ${f}`);
if (hangs.length) log(`Requests never answered within ${TIMEOUT_MS} ms: ${hangs.length}`);
log(`Server sockets of fuzz connections still open 3 s after the client closed them all: ${leakedSockets}${leakedSockets ? ' (LEAK), by the last request on them:' : ''}`);
for (const [key, { n, example }] of [...leakedBy].sort((x, y) => y[1].n - x[1].n).slice(0, 15)) {
  log(`  ${n}× ${key}`);
  if (example) log(`      e.g. ${example.method} ${example.path.slice(0, 160)}${example.path.length > 160 ? `… (${example.path.length} chars)` : ''} ${JSON.stringify(redact(example)).slice(0, 300)}`);
}
log(`server.close() after the run: ${closed ? 'finished' : 'had NOT finished after 15 s (HANG)'}`);
const failures = [
  fivexx.length > 0 && `${fivexx.length} 5xx answers`,
  health.failures.length > 0 && `${health.failures.length} failed /healthz probes`,
  hangs.length > 0 && `${hangs.length} requests never answered`,
  leakedSockets > 0 && `${leakedSockets} server sockets left open (leak)`,
  !closed && 'server.close() hung',
].filter(Boolean);
log(`\n5xx: ${fivexx.length} (must be 0); /healthz ${health.failures.length ? 'failed' : 'answered throughout'}`);
log(failures.length ? `FAIL: ${failures.join('; ')}` : 'PASS');
process.exit(failures.length ? 1 : 0);
