/**
 * /metrics, /readyz and /healthz of real servers over HTTP. A scripted session (a failed password, throttled guesses,
 * sign-ins, a universal logout, an idle expiry on the injected clock, a failed back-channel delivery) moves each of
 * its counters between two scrapes, read with a Prometheus text parser. The metrics token guards /metrics when set;
 * readiness fails for real: a closed store; in a cluster, Redis gone and the database gone (the lease lapses).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { authorizeRequest, automationToken, Browser, formFields, signIn } from './helpers/browser.ts';
import { openChannel } from './helpers/channel.ts';
import {
  clusterProblem, freePort, freshPostgresDatabase, requireService, startRedisServer, stopRedisServer,
} from './helpers/services.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { waitFor } from './helpers/wait.ts';

interface Sample { labels?: Record<string, string>; value?: string; count?: string; sum?: string; buckets?: Record<string, string> }
interface Family { name: string; type: string; metrics: Sample[] }
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const MINUTE = 60_000;
const METRICS_TOKEN = 'metrics-token-for-tests';
const REQUESTS = 'lockstep_http_request_duration_seconds';

/** One scrape, parsed. */
class Scrape {
  readonly #families: Map<string, Family>;
  constructor(families: Family[]) {
    this.#families = new Map(families.map((f) => [f.name, f]));
  }

  has(name: string): boolean {
    return (this.#families.get(name)?.metrics.length ?? 0) > 0;
  }

  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    const family = this.#families.get(name);
    assert.ok(family, `${name} is exposed`);
    return family.metrics.filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  }

  /** A counter's or gauge's value, summed over the series matching `labels` (0 when none yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((sum, s) => sum + Number(s.value), 0);
  }

  /** An unlabelled histogram: its count, sum and cumulative buckets. */
  histogram(name: string): { count: number; sum: number; le: (bound: string) => number } {
    const [s] = this.samples(name);
    assert.ok(s?.buckets, `${name} is a histogram with buckets`);
    return { count: Number(s.count), sum: Number(s.sum), le: (bound) => Number(s.buckets![bound]) };
  }
}

async function scrape(url: string, token?: string): Promise<{ text: string; metrics: Scrape }> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return { text, metrics: new Scrape(parsePrometheus(text)) };
}

/**
 * The request-duration series (route, method, status) and their counts. The parser merges a histogram's labelled
 * series into one (yunyu/parse-prometheus-text-format#13): the family is declared untyped here, so each `_count`
 * sample comes out on its own (as a family of one, between its series' `_bucket` and `_sum` ones), labels intact.
 */
function requestCounts(text: string): { route: string; method: string; status: string; count: number }[] {
  const untyped = text.replace(`# TYPE ${REQUESTS} histogram`, `# TYPE ${REQUESTS} untyped`);
  const counts = parsePrometheus(untyped).filter((f) => f.name === `${REQUESTS}_count`).flatMap((f) => f.metrics);
  assert.ok(counts.length, `${REQUESTS}_count samples`);
  return counts.map((s) => ({ route: s.labels!.route!, method: s.labels!.method!, status: s.labels!.status!, count: Number(s.value) }));
}

async function readiness(url: string) {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; failed: string[]; checks: Record<string, { status: string; message: string }> } };
}


/** POSTs the login form of a fresh authorization request with these credentials: the status (303: signed in, 429: throttled). */
async function postPassword(url: string, username: string, password: string): Promise<number> {
  const browser = new Browser();
  const form = await authorizeRequest(url, browser, 'agent-desktop');
  assert.equal(form.status, 200);
  const res = await browser.fetch(`${url}/oauth/authorize`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...formFields(await form.text()), username, password }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('metrics after a scripted session (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  // crm-backend's back-channel endpoint, down behind its proxy: every delivery fails with 503 (and is retried).
  const receiver = new BackchannelReceiver({ answer: 'unavailable' });
  let server: TestServer;
  let first: { text: string; metrics: Scrape };
  let last: { text: string; metrics: Scrape };
  /** The idle_timeout audit entries of the session (the admin's token, unused as long, expires with the user's). */
  let idleExpiries: number;
  const moved = (name: string, labels: Record<string, string> = {}) => last.metrics.value(name, labels) - first.metrics.value(name, labels);

  before(async () => {
    server = await startTestServer({ clock });
    const call = api(server.url);
    const admin = await automationToken(server.url, DEMO_SECRET);
    await receiver.up();
    const crm = (await call('GET', '/api/v2/oauth/clients/crm-backend', admin)).body;
    const put = await call('PUT', '/api/v2/oauth/clients/crm-backend', admin, {
      name: crm.name, type: crm.type, redirectUris: crm.redirectUris, grantTypes: crm.grantTypes, postLogoutRedirectUris: crm.postLogoutRedirectUris,
      backchannelLogoutUri: receiver.url, roles: crm.roles, loopbackAnyPort: crm.loopbackAnyPort,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await call('PATCH', '/api/v2/organizations/authentication/settings', admin, { universalLogout: true })).status, 200);
    assert.equal((await call('PUT', '/api/v2/tokens/timeout', admin, { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 300 })).status, 200);

    first = await scrape(server.url);
    const skew = () => (clock.now() - Date.now()) / 1000;

    // A wrong password, then guesses at one account until the throttle refuses one.
    assert.notEqual(await postPassword(server.url, agent.username, 'not-the-password'), 303);
    let guesses = 0;
    while ((await postPassword(server.url, 'nobody@demo.test', `guess-${guesses}`)) !== 429) assert.ok(++guesses < 10, 'the throttle refused a guess');

    // Signed in to two clients in one browser, a channel open; a universal logout ends both and owes crm-backend a back-channel logout.
    const browser = new Browser();
    const desktop = (await signIn(server.url, browser, { clientId: 'agent-desktop', clockSkewSeconds: skew() }, agent)).tokens.access_token;
    await signIn(server.url, browser, { clientId: 'crm-backend', clientSecret: DEMO_SECRET, clockSkewSeconds: skew() }, agent);
    const channel = await openChannel(server.url, desktop);
    const withChannel = await scrape(server.url);
    assert.equal(withChannel.metrics.value('lockstep_channels_open'), 1, 'the open channel');
    assert.ok(withChannel.metrics.value('lockstep_tokens_tracked') >= 2, 'the two access tokens are tracked');
    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop)).status, 204);
    await channel.closed;
    await server.authority.backchannel.drain();
    assert.deepEqual(receiver.hits.map((h) => h.status), [503], 'the back-channel delivery failed');

    // An idle expiry, 2 s past the deadline of a token nobody uses. The clock has not moved since the first call: every
    // token's deadline is the same.
    const audited = async () => (await call('GET', '/api/v2/audits?kind=idle_timeout', await automationToken(server.url, DEMO_SECRET))).body.total as number;
    const auditedBefore = await audited();
    const idle = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: skew() }, agent)).tokens.access_token;
    clock.advance(5 * MINUTE + 2000);
    await server.authority.ledger.sweep();
    assert.equal((await fetch(`${server.url}/api/v2/tokens/me`, { method: 'HEAD', headers: { authorization: `Bearer ${idle}` } })).status, 401);

    last = await scrape(server.url);
    idleExpiries = (await audited()) - auditedBefore;
  });
  after(async () => {
    await receiver.down();
    await server.stop();
  });

  test('sign-ins: one wrong password per refused guess, and the throttled one', () => {
    assert.ok(moved('lockstep_login_failures_total') >= 2, `login failures moved by ${moved('lockstep_login_failures_total')}`);
    assert.ok(moved('lockstep_logins_throttled_total') >= 1);
  });

  test('logouts by reason: the universal logout once, each idle expiry once', () => {
    assert.equal(moved('lockstep_logouts_total', { reason: 'universal_logout' }), 1);
    assert.equal(moved('lockstep_logouts_total', { reason: 'idle_timeout' }), idleExpiries);
    assert.equal(moved('lockstep_logouts_total', { reason: 'admin_logoff' }), 0, 'every reason is exposed, unmoved ones at 0');
  });

  test('idle expiries are counted as the audit log has them, each with its lateness: 2 s after the deadline', () => {
    assert.ok(idleExpiries >= 1, 'the unused token expired');
    assert.equal(moved('lockstep_idle_expiries_total'), idleExpiries);
    const [was, now] = [first.metrics.histogram('lockstep_idle_expiry_lateness_seconds'), last.metrics.histogram('lockstep_idle_expiry_lateness_seconds')];
    assert.equal(now.count - was.count, idleExpiries);
    assert.ok(Math.abs(now.sum - was.sum - 2 * idleExpiries) < 1e-6, `lateness ${now.sum - was.sum} s in all`);
    assert.equal(now.le('1') - was.le('1'), 0, 'none within 1 s');
    assert.equal(now.le('2.5') - was.le('2.5'), idleExpiries, 'each within 2.5 s');
  });

  test('the failed back-channel delivery: an attempt to retry, and the row pending in the outbox, as old as the clock moved since', () => {
    assert.equal(moved('lockstep_backchannel_attempts_total', { outcome: 'retry', result: 'http_status' }), 1);
    assert.equal(moved('lockstep_backchannel_attempts_total', { outcome: 'delivered' }), 0);
    assert.equal(last.metrics.value('lockstep_backchannel_outbox_pending'), 1);
    assert.ok(last.metrics.value('lockstep_backchannel_outbox_oldest_pending_age_seconds') >= 5 * 60, 'queued before the clock moved 5 minutes');
  });

  test('request durations by route pattern, method and status; never a raw URL', () => {
    const series = requestCounts(last.text);
    const count = (route: string, method: string, status: string) => series.find((s) => s.route === route && s.method === method && s.status === status)?.count ?? 0;
    assert.ok(count('/api/v2/tokens/me', 'DELETE', '204') >= 1, 'the logout');
    assert.ok(count('/api/v2/tokens/me', 'HEAD', '401') >= 1, 'the idle-expired token refused');
    assert.ok(count('/api/v2/oauth/clients/:id', 'PUT', '200') >= 1, 'a route with a parameter, by its pattern');
    assert.ok(count('/oauth/authorize', 'POST', '429') >= 1, 'the throttled guess');
    assert.ok(count('/metrics', 'GET', '200') >= 1);
    assert.ok(series.every((s) => !s.route.includes('crm-backend')), `no raw URL among ${JSON.stringify(series.map((s) => s.route))}`);
  });

  test('store and bus errors are exposed, none here; the channel is gone; no cluster metrics outside a cluster', () => {
    assert.equal(moved('lockstep_store_errors_total'), 0);
    assert.equal(moved('lockstep_bus_errors_total'), 0);
    assert.ok(last.metrics.samples('lockstep_bus_errors_total').length >= 5, 'every bus error kind at 0');
    assert.equal(last.metrics.value('lockstep_channels_open'), 0, 'the logout closed the channel');
    assert.equal(last.text.includes('lockstep_cluster_'), false);
    assert.ok(last.metrics.has('process_cpu_user_seconds_total'), 'the default process metrics');
  });
});

describe('/metrics with LOCKSTEP_METRICS_TOKEN set', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ env: { LOCKSTEP_METRICS_TOKEN: METRICS_TOKEN } })));
  after(() => server.stop());

  test('refuses without the token or with another, in the API error body; answers with it', async () => {
    const without = await fetch(`${server.url}/metrics`);
    assert.equal(without.status, 401);
    assert.equal(((await without.json()) as { code: string }).code, 'token.missing');
    assert.match(without.headers.get('www-authenticate') ?? '', /^Bearer /);

    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { code: string }).code, 'token.unknown');

    const { metrics } = await scrape(server.url, METRICS_TOKEN);
    assert.ok(metrics.has('lockstep_logouts_total'));
    assert.ok(metrics.has('lockstep_backchannel_outbox_pending'));
  });

  test('the probes stay open', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await readiness(server.url)).status, 200);
  });
});

describe('/readyz and /healthz of a server alone', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  test('ready: the store answers, migrations applied, the in-process bus connected; no lease outside a cluster', async () => {
    const { status, body } = await readiness(server.url);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      status: 'ready', failed: [],
      checks: { store: { status: 'ok', message: 'answered' }, migrations: { status: 'ok', message: 'all applied' }, bus: { status: 'ok', message: 'connected' } },
    });
    const live = await fetch(`${server.url}/healthz`);
    assert.deepEqual([live.status, await live.json()], [200, { status: 'ok' }]);
  });

  test('the store closed: 503 naming the store, migrations unknown; /metrics still answers, counting the store errors', async () => {
    await server.authority.store.close();
    const { status, body } = await readiness(server.url);
    assert.equal(status, 503);
    assert.equal(body.status, 'not_ready');
    assert.deepEqual(body.failed, ['store']);
    assert.equal(body.checks.migrations!.status, 'unknown');
    assert.equal(body.checks.bus!.status, 'ok');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the process is alive all the same');

    const { metrics } = await scrape(server.url);
    assert.ok(metrics.value('lockstep_store_errors_total', { operation: 'pendingMigrations' }) >= 1);
    assert.ok(metrics.value('lockstep_store_errors_total', { operation: 'backchannelOutboxStats' }) >= 1, 'the scrape asked the store too');
    assert.equal(metrics.has('lockstep_backchannel_outbox_pending'), false, 'no outbox figure without a store answer');
  });
});

const problem = await clusterProblem();

describe('/readyz and the cluster metrics of two nodes', requireService('PostgreSQL and redis-server', problem), () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let redis: ChildProcess | undefined;
  let A: TestServer;
  let B: TestServer;

  before(async () => {
    db = await freshPostgresDatabase();
    const redisPort = await freePort();
    redis = await startRedisServer(redisPort);
    const env = { LOCKSTEP_DATABASE_URL: db.url, LOCKSTEP_REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOCKSTEP_DEMO_CRM_PORT: 'off' };
    A = await startTestServer({ env });
    B = await startTestServer({ env });
  });
  after(async () => {
    await Promise.allSettled([A?.stop(), B?.stop()]);
    await stopRedisServer(redis);
    await db?.drop();
  });

  test('ready with the lease held; a revocation waits for the other node\'s acknowledgement, timed', async () => {
    const { status, body } = await readiness(A.url);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.checks.lease, { status: 'ok', message: 'held' });
    const was = (await scrape(A.url)).metrics;
    assert.equal(was.value('lockstep_cluster_lease_held'), 1);

    const token = (await signIn(A.url, new Browser(), { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    assert.equal((await api(A.url)('DELETE', '/api/v2/tokens/me', token)).status, 204);
    const now = (await scrape(A.url)).metrics;
    assert.equal(now.histogram('lockstep_cluster_revocation_ack_seconds').count - was.histogram('lockstep_cluster_revocation_ack_seconds').count, 1);
  });

  test('Redis gone: 503 naming the bus, the disconnection counted', async () => {
    await stopRedisServer(redis);
    const { body } = await waitFor('A sees the bus down', 20_000, async () => {
      const r = await readiness(A.url);
      return r.status === 503 && r;
    });
    assert.ok(body.failed.includes('bus'), JSON.stringify(body));
    assert.ok((await scrape(A.url)).metrics.value('lockstep_bus_errors_total', { kind: 'disconnected' }) >= 1);
  });

  test('the database gone: the store fails, the lease lapses, and the lease gauge says so', async () => {
    await db.drop();
    const { body } = await waitFor('A\'s lease lapses', 20_000, async () => {
      const r = await readiness(A.url);
      return r.body.failed.includes('lease') && r;
    });
    assert.equal(body.status, 'not_ready');
    assert.ok(body.failed.includes('store'), JSON.stringify(body));
    assert.equal((await scrape(A.url)).metrics.value('lockstep_cluster_lease_held'), 0);
  });
});
