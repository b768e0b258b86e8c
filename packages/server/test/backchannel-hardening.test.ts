/**
 * Back-channel logout hardening, against a real server and real HTTP/TCP receivers on loopback:
 * - the address policy refuses private, metadata, loopback (when not allowed), numeric-trick,
 *   non-http(s), userinfo and fragment URIs when a client is created or updated;
 * - delivery checks the policy again after DNS resolution and connects to the address it checked:
 *   a name that rebinds to a refused address is not followed (a permanent failure), a URI stored
 *   before the policy is refused at delivery;
 * - the audit log records result classes (network_error, http_status, timeout, delivered), never a
 *   raw network error that would reveal addresses, ports or which of them answer;
 * - an unresponsive receiver of one org neither delays another org's logouts nor gets more than
 *   two attempts in flight at once;
 * - deleting a client cancels its pending deliveries;
 * - a user-wide logout (admin logoff, universal logout, global revocation, user deletion) tells only
 *   the back-channel clients the user was signed in to.
 * Conditions are waited for, never slept on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { ManualClock } from '../src/core/clock.ts';
import { hashPassword, sha256 } from '../src/core/secrets.ts';
import type { Lookup } from '../src/core/backchannel-address.ts';
import { DEFAULT_ORG_SETTINGS, type Client } from '../src/core/records.ts';
import type { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { api } from './helpers/api.ts';
import { BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const MINUTE = 60_000;
/** A redirect URI the demo clients register, and so do the clients created here. */
const REDIRECT = 'http://127.0.0.1/callback';
const HOUR = 60 * MINUTE;

/** Polls `condition` until it holds; fails with `what` after `ms`. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP server on loopback that accepts connections and never answers; counts them. */
class SilentServer {
  readonly open = new Set<Socket>();
  accepted = 0;
  maxOpen = 0;
  #server: Server | null = null;
  port = 0;

  async up() {
    const server = createServer((socket) => {
      this.accepted++;
      this.open.add(socket);
      this.maxOpen = Math.max(this.maxOpen, this.open.size);
      socket.on('close', () => this.open.delete(socket));
      socket.on('error', () => {});
      socket.resume();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/backchannel-logout`;
  }

  async down() {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const s of this.open) s.destroy();
    await new Promise((r) => server.close(r));
  }
}

interface Attempt {
  at: string;
  details: {
    jti: string; attempt: number; outcome: string; result: string; statusCode: number | null; error: string | null; nextAttemptAt: string | null;
  };
}

/** What every scenario does against one server. */
function harness(get: () => { server: TestServer; clock?: ManualClock }) {
  const call = (method: string, path: string, token: string, body?: unknown) => api(get().server.url)(method, path, token, body);
  const admin = () => automationToken(get().server.url, DEMO_SECRET);
  const skew = () => { const c = get().clock; return c ? (c.now() - Date.now()) / 1000 : 0; };
  const store = () => get().server.authority.store as SqliteStore;

  const h = {
    call,
    admin,
    clientBody: (c: any, backchannelLogoutUri: string | null) => ({
      name: c.name, type: c.type, redirectUris: c.redirectUris, grantTypes: c.grantTypes,
      postLogoutRedirectUris: c.postLogoutRedirectUris, backchannelLogoutUri, roles: c.roles,
    }),
    /** PUT crm-backend with a new back-channel logout URI; answers the response. */
    async putCrmBackend(uri: string | null) {
      const token = await admin();
      const current = await call('GET', '/api/v2/oauth/clients/crm-backend', token);
      assert.equal(current.status, 200, JSON.stringify(current.body));
      return call('PUT', '/api/v2/oauth/clients/crm-backend', token, h.clientBody(current.body, uri));
    },
    async pointCrmBackendAt(uri: string) {
      const put = await h.putCrmBackend(uri);
      assert.equal(put.status, 200, JSON.stringify(put.body));
    },
    /** Code flow with the exact loopback redirect every client here registers (no reliance on any-port matching). */
    signIn(browser: Browser, clientId: string, clientSecret?: string, who = agent) {
      return signIn(get().server.url, browser, { clientId, redirectUri: REDIRECT, clockSkewSeconds: skew(), ...(clientSecret ? { clientSecret } : {}) }, who);
    },
    /** DELETE /api/v2/tokens/me of a crm-backend token; answers the jti of the back-channel logout it queued. */
    async logoutCrmBackend(accessToken: string) {
      assert.equal((await call('DELETE', '/api/v2/tokens/me', accessToken)).status, 204);
      const entries = (await call('GET', '/api/v2/audits?kind=logout&pageSize=1', await admin())).body.entities;
      const owed = entries[0].details.backchannelLogouts as { clientId: string; jti: string }[];
      assert.equal(owed.length, 1, JSON.stringify(owed));
      return owed[0]!.jti;
    },
    async attempts(jti: string): Promise<Attempt[]> {
      const r = await call('GET', '/api/v2/audits?kind=backchannel_logout&pageSize=500', await admin());
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.entities as Attempt[]).filter((e) => e.details.jti === jti).sort((x, y) => x.details.attempt - y.details.attempt);
    },
    /** The outbox rows of a user, straight from the store. */
    outbox(userId: string): { id: string; clientId: string; sessionId: string | null; status: string }[] {
      return (store().db.prepare('SELECT id, client_id, session_id, status FROM backchannel_outbox WHERE user_id = ? ORDER BY created_at').all(userId) as any[])
        .map((r) => ({ id: r.id, clientId: r.client_id, sessionId: r.session_id, status: r.status }));
    },
    status(jti: string): string {
      return (store().db.prepare('SELECT status FROM backchannel_outbox WHERE id = ?').get(jti) as { status: string }).status;
    },
    async step(ms: number) {
      get().clock!.advance(ms);
      await get().server.authority.backchannel.drain();
    },
    /** A fake DNS for the server (at client checks and at delivery): names to addresses; other names do not resolve. */
    resolve(names: Record<string, string[]>) {
      const lookup: Lookup = async (host) => {
        const found = names[host];
        if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      };
      get().server.authority.backchannel.lookup = lookup;
    },
  };
  return h;
}

describe('the address policy when a client is created or updated', () => {
  let server: TestServer;
  const h = harness(() => ({ server }));
  const receiver = new BackchannelReceiver();

  before(async () => {
    server = await startTestServer();
    await receiver.up();
  });
  after(async () => {
    await receiver.down();
    await server.stop();
  });

  const newClient = (backchannelLogoutUri: string) => ({
    name: 'RP', type: 'confidential', redirectUris: ['https://rp.example.com/callback'], grantTypes: ['authorization_code'], backchannelLogoutUri,
  });

  test('private, metadata, numeric-trick, non-http(s), userinfo and fragment URIs: 400 naming the rule, nothing stored; public https and (demo) loopback pass', async () => {
    h.resolve({ 'internal.example.test': ['10.0.0.5'], 'mixed.example.test': ['93.184.216.34', '192.168.1.20'], 'rp.example.test': ['93.184.216.34'] });
    const token = await h.admin();
    const cases: [string, RegExp][] = [
      ['http://169.254.169.254/latest/meta-data/', /non_public_address.*link-local/],
      ['https://169.254.169.254/latest/meta-data/', /non_public_address.*link-local/],
      ['https://10.0.0.1/bcl', /non_public_address.*private/],
      ['https://172.16.5.4/bcl', /non_public_address.*private/],
      ['https://192.168.1.1/bcl', /non_public_address.*private/],
      ['https://100.64.0.1/bcl', /non_public_address.*carrier-grade NAT/],
      ['https://0.0.0.0/bcl', /non_public_address/],
      ['https://[fd00::1]/bcl', /non_public_address.*unique-local/],
      ['https://[fe80::1]/bcl', /non_public_address.*link-local/],
      ['https://[::ffff:169.254.169.254]/bcl', /non_public_address.*link-local/],
      ['https://[::ffff:a9fe:a9fe]/bcl', /non_public_address.*link-local/],
      ['http://2130706433/bcl', /numeric_host/],
      ['http://0x7f.1/bcl', /numeric_host/],
      ['http://0177.0.0.1/bcl', /numeric_host/],
      ['https://2852039166/latest/meta-data/', /numeric_host/],
      ['https://internal.example.test/bcl', /non_public_address.*internal\.example\.test resolves to a private address \(10\.0\.0\.0\/8\)/],
      ['https://mixed.example.test/bcl', /non_public_address.*mixed\.example\.test resolves to a private address \(192\.168\.0\.0\/16\)/],
      ['http://rp.example.test/bcl', /https_required/],
      ['file:///etc/passwd', /scheme/],
      ['gopher://rp.example.test:70/_payload', /scheme/],
      ['https://user:pw@rp.example.test/bcl', /userinfo/],
      ['https://rp.example.test/bcl#frag', /fragment/],
    ];
    const before = (await h.call('GET', '/api/v2/oauth/clients?pageSize=100', token)).body.total;
    const wrong: string[] = [];
    for (const [uri, says] of cases) {
      const r = await h.call('POST', '/api/v2/oauth/clients', token, newClient(uri));
      if (r.status !== 400 || !says.test(r.body?.message ?? '') || !/backchannelLogoutUri/.test(r.body?.message ?? '')) {
        wrong.push(`${uri}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    assert.deepEqual(wrong, [], 'every URI refused with its rule');
    assert.equal((await h.call('GET', '/api/v2/oauth/clients?pageSize=100', token)).body.total, before, 'no client was created');

    // Updates go through the same policy; the stored URI stays.
    const stored = (await h.call('GET', '/api/v2/oauth/clients/crm-backend', token)).body.backchannelLogoutUri;
    const put = await h.putCrmBackend('http://169.254.169.254/latest/meta-data/iam/');
    assert.equal(put.status, 400, JSON.stringify(put.body));
    assert.match(put.body.message, /rule non_public_address/);
    assert.equal((await h.call('GET', '/api/v2/oauth/clients/crm-backend', token)).body.backchannelLogoutUri, stored);

    // Allowed: public https (names, literals, a name not in DNS yet) and, with the demo on, loopback receivers.
    for (const uri of ['https://rp.example.test/bcl', 'https://93.184.216.34/bcl', 'https://[2606:4700::1111]/bcl', 'https://not-yet-in-dns.example.test/bcl']) {
      const r = await h.call('POST', '/api/v2/oauth/clients', token, newClient(uri));
      assert.equal(r.status, 201, `${uri}: ${JSON.stringify(r.body)}`);
      assert.equal((await h.call('DELETE', `/api/v2/oauth/clients/${r.body.id}`, token)).status, 204);
    }
    await h.pointCrmBackendAt(receiver.url);
  });
});

describe('the address policy at delivery time (DNS resolved per attempt)', () => {
  const clock = new ManualClock(Date.now());
  const receiver = new BackchannelReceiver({ now: () => clock.now(), check: (req) => void hosts.push(req.headers.host ?? '') });
  const hosts: string[] = [];
  const silent = new SilentServer();

  describe('loopback allowed (the demo default)', () => {
    let server: TestServer;
    const h = harness(() => ({ server, clock }));
    before(async () => {
      server = await startTestServer({ clock });
      receiver.issuer = server.url;
      await receiver.up();
    });
    after(async () => {
      await receiver.down();
      await server.stop();
    });

    test('the request goes to the address that was checked, with the URI\'s host name', async () => {
      const port = new URL(receiver.url).port;
      h.resolve({ 'receiver.test': ['127.0.0.1'] }); // no real DNS knows this name: arriving proves the pinned address was used
      await h.pointCrmBackendAt(`http://receiver.test:${port}/backchannel-logout`);
      const { tokens } = await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
      const jti = await h.logoutCrmBackend(tokens.access_token);
      await server.authority.backchannel.drain();
      assert.deepEqual((await h.attempts(jti)).map((a) => [a.details.outcome, a.details.result, a.details.statusCode]), [['delivered', 'delivered', 200]]);
      assert.equal(receiver.actionsOf(jti).length, 1);
      assert.deepEqual(receiver.rejected, []);
      assert.equal(hosts.at(-1), `receiver.test:${port}`);
    });

    test('a name that now resolves to any refused address is not followed: refused_by_policy, permanent', async () => {
      const port = new URL(receiver.url).port;
      h.resolve({ 'receiver.test': ['127.0.0.1'] });
      await h.pointCrmBackendAt(`http://receiver.test:${port}/backchannel-logout`);
      const { tokens } = await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
      h.resolve({ 'receiver.test': ['127.0.0.1', '10.1.2.3'] }); // the name changed since the URI was checked
      const hits = receiver.hits.length;
      const jti = await h.logoutCrmBackend(tokens.access_token);
      await server.authority.backchannel.drain();
      const attempts = await h.attempts(jti);
      assert.deepEqual(attempts.map((a) => [a.details.outcome, a.details.result, a.details.error, a.details.statusCode, a.details.nextAttemptAt]),
        [['failed', 'refused_by_policy', 'refused_by_policy', null, null]]);
      await h.step(HOUR);
      assert.equal((await h.attempts(jti)).length, 1, 'not tried again');
      assert.equal(h.status(jti), 'failed');
      assert.equal(receiver.hits.length, hits, 'nothing was sent');
    });
  });

  describe('nothing allowed (LOCKSTEP_BACKCHANNEL_ALLOW=none)', () => {
    let server: TestServer;
    const h = harness(() => ({ server, clock }));
    before(async () => {
      server = await startTestServer({ clock, env: { LOCKSTEP_BACKCHANNEL_ALLOW: 'none' } });
      await silent.up();
    });
    after(async () => {
      await silent.down();
      await server.stop();
    });

    test('DNS rebinding: checked public when set, loopback when delivered — refused without connecting', async () => {
      h.resolve({ 'rp.rebind.test': ['93.184.216.34'] });
      await h.pointCrmBackendAt(`https://rp.rebind.test:${silent.port}/backchannel-logout`);
      const { tokens } = await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
      h.resolve({ 'rp.rebind.test': ['127.0.0.1'] });
      const jti = await h.logoutCrmBackend(tokens.access_token);
      await server.authority.backchannel.drain();
      assert.deepEqual((await h.attempts(jti)).map((a) => [a.details.outcome, a.details.result, a.details.nextAttemptAt]), [['failed', 'refused_by_policy', null]]);
      assert.equal(silent.accepted, 0, 'no connection was made to the rebound address');
      await h.step(HOUR);
      assert.equal((await h.attempts(jti)).length, 1);
      assert.equal(silent.accepted, 0);
    });

    test('a URI stored before the policy (or by the seed) is refused at delivery', async () => {
      const client = (await server.authority.store.getClient('crm-backend'))!;
      await server.authority.store.updateClient({ ...client, backchannelLogoutUri: silent.url });
      const { tokens } = await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
      const jti = await h.logoutCrmBackend(tokens.access_token);
      await server.authority.backchannel.drain();
      const [attempt] = await h.attempts(jti);
      assert.equal(attempt?.details.result, 'refused_by_policy');
      assert.equal(attempt?.details.outcome, 'failed');
      assert.equal(silent.accepted, 0, 'loopback is not reached when it is not allowed');
    });
  });
});

describe('audit entries of deliveries are result classes, not network errors', () => {
  let server: TestServer;
  const clock = new ManualClock(Date.now());
  const h = harness(() => ({ server, clock }));
  const receiver = new BackchannelReceiver({ now: () => clock.now() });
  const silent = new SilentServer();

  before(async () => {
    server = await startTestServer({ clock });
    receiver.issuer = server.url;
    await receiver.up();
    await silent.up();
  });
  after(async () => {
    await receiver.down();
    await silent.down();
    await server.stop();
  });

  test('refused connection, 503, no answer, 200: network_error, http_status 503, timeout, delivered — no addresses, ports or error codes', async () => {
    const closed = new BackchannelReceiver();
    await closed.up();
    await closed.down(); // a port nobody listens on
    const scenarios: { uri: string; answer?: 'ok' | 'unavailable'; want: [string, string, number | null, string | null] }[] = [
      { uri: closed.url, want: ['retry', 'network_error', null, 'network_error'] },
      { uri: receiver.url, answer: 'unavailable', want: ['retry', 'http_status', 503, null] },
      { uri: silent.url, want: ['retry', 'timeout', null, 'timeout'] },
      { uri: receiver.url, answer: 'ok', want: ['delivered', 'delivered', 200, null] },
    ];
    const all: Attempt[] = [];
    for (const s of scenarios) {
      await h.pointCrmBackendAt(s.uri);
      if (s.answer) receiver.answer = s.answer;
      const { tokens } = await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
      const jti = await h.logoutCrmBackend(tokens.access_token);
      await server.authority.backchannel.drain();
      const attempts = await h.attempts(jti);
      assert.equal(attempts.length, 1, s.uri);
      const d = attempts[0]!.details;
      assert.deepEqual([d.outcome, d.result, d.statusCode, d.error], s.want, s.uri);
      all.push(...attempts);
    }
    const text = JSON.stringify(all);
    for (const leak of [/ECONN/i, /ETIMEDOUT/i, /EHOSTUNREACH/i, /refused/i, /127\.0\.0\.1/, /connect/i, /socket/i, new RegExp(`${new URL(closed.url).port}|${silent.port}`)]) {
      assert.doesNotMatch(text, leak, 'audit details carry no raw network error');
    }
  });
});

describe('isolation: an unresponsive receiver of one org does not hold up another org', () => {
  let server: TestServer;
  const h = harness(() => ({ server }));
  const silent = new SilentServer();
  /** Org B's healthy receiver (tokens only decoded: its audience is org B's client). */
  const healthy = new BackchannelReceiver({ verify: false });
  const orgB = { id: `org-b-${randomUUID().slice(0, 8)}`, clientId: `b-backend-${randomUUID().slice(0, 8)}`, secret: 'org-b-client-secret' };
  const userB = { username: 'agent@org-b.test', password: 'org-b-agent-password' };

  before(async () => {
    server = await startTestServer();
    await silent.up();
    await healthy.up();
    // Org B with a user and a confidential client whose back-channel receiver answers at once.
    const { store } = server.authority;
    const now = Date.now();
    await store.createOrg({ id: orgB.id, name: 'Org B', createdAt: now }, DEFAULT_ORG_SETTINGS);
    await store.createUser({
      id: randomUUID(), orgId: orgB.id, email: userB.username, name: 'B Agent', roles: ['agent'],
      passwordHash: await hashPassword(userB.password), version: 1, createdAt: now, updatedAt: now,
    });
    await store.createClient(<Client>{
      id: orgB.clientId, orgId: orgB.id, name: 'B Backend', type: 'confidential', secretHash: sha256(orgB.secret),
      redirectUris: [REDIRECT], grantTypes: ['authorization_code'], postLogoutRedirectUris: [],
      backchannelLogoutUri: healthy.url, allowedOrigins: [], roles: [], loopbackAnyPort: true, createdAt: now,
    });
    server.authority.webOrigins.invalidate();
  });
  after(async () => {
    await silent.down();
    await healthy.down();
    await server.stop();
  });

  test('org A\'s three logouts to a silent receiver: two in flight at most; org B\'s logout arrives while they still wait', async () => {
    await h.pointCrmBackendAt(silent.url);
    // The demo agent in three browsers (three sign-in sessions) of crm-backend: an admin logoff owes it three logouts.
    for (let i = 0; i < 3; i++) await h.signIn(new Browser(), 'crm-backend', DEMO_SECRET);
    const agentId = (await server.authority.store.findUserByEmail(agent.username))!.id;
    // Org B's user is signed in before A's deliveries start, so only B's logout runs while they wait.
    const b = await h.signIn(new Browser(), orgB.clientId, orgB.secret, userB);

    assert.equal((await h.call('DELETE', `/api/v2/tokens/${agentId}`, await h.admin())).status, 204);
    assert.equal(h.outbox(agentId).filter((r) => r.clientId === 'crm-backend').length, 3);
    await waitFor(() => silent.open.size >= 2, 'attempts to the silent receiver in flight');

    assert.equal((await h.call('DELETE', '/api/v2/tokens/me', b.tokens.access_token)).status, 204);
    await waitFor(() => healthy.tokens.length === 1, "org B's back-channel logout to arrive");

    // Measured against A's attempts, not the wall clock: they are still waiting for an answer.
    assert.equal(silent.open.size, 2, "A's attempts are still open");
    assert.equal(silent.accepted, 2, 'the third waits for room: at most two in flight per receiver');
    assert.equal(silent.maxOpen, 2);
    const recorded = (await h.call('GET', '/api/v2/audits?kind=backchannel_logout&pageSize=500', await h.admin())).body.entities as Attempt[];
    assert.equal(recorded.length, 0, "none of A's first attempts has ended yet");
    assert.equal(decodeJwt(healthy.tokens[0]!).aud, orgB.clientId);
  });
});

describe('deleting a client cancels its pending deliveries', () => {
  let server: TestServer;
  const clock = new ManualClock(Date.now());
  const h = harness(() => ({ server, clock }));
  const receiver = new BackchannelReceiver({ verify: false, answer: 'unavailable' });

  before(async () => {
    server = await startTestServer({ clock });
    await receiver.up();
  });
  after(async () => {
    await receiver.down();
    await server.stop();
  });

  test('a delivery being retried is cancelled with its client and never tried again', async () => {
    const token = await h.admin();
    const created = await h.call('POST', '/api/v2/oauth/clients', token, {
      name: 'Doomed RP', type: 'confidential', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'],
      backchannelLogoutUri: receiver.url,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, secret } = created.body;
    const { tokens } = await h.signIn(new Browser(), id, secret);
    assert.equal((await h.call('DELETE', '/api/v2/tokens/me', tokens.access_token)).status, 204);
    await server.authority.backchannel.drain();
    const owed = (await h.call('GET', '/api/v2/audits?kind=logout&pageSize=1', token)).body.entities[0].details.backchannelLogouts;
    assert.equal(owed.length, 1);
    const jti = owed[0].jti as string;
    assert.deepEqual((await h.attempts(jti)).map((a) => [a.details.outcome, a.details.statusCode]), [['retry', 503]]);
    assert.equal(h.status(jti), 'pending');

    assert.equal((await h.call('DELETE', `/api/v2/oauth/clients/${id}`, token)).status, 204);
    assert.equal(h.status(jti), 'cancelled');
    const hits = receiver.hits.length;
    receiver.answer = 'ok';
    await h.step(10 * MINUTE);
    await h.step(2 * HOUR);
    assert.equal((await h.attempts(jti)).length, 1, 'no attempt after the client was deleted');
    assert.equal(receiver.hits.length, hits);
    assert.equal(h.status(jti), 'cancelled');
  });
});

describe('a user-wide logout tells only the back-channel clients the user was signed in to', () => {
  let server: TestServer;
  const h = harness(() => ({ server }));
  const used = new BackchannelReceiver({ verify: false });
  const unused = new BackchannelReceiver({ verify: false });
  let unusedClientId = '';

  before(async () => {
    server = await startTestServer();
    await used.up();
    await unused.up();
    await h.pointCrmBackendAt(used.url);
    const created = await h.call('POST', '/api/v2/oauth/clients', await h.admin(), {
      name: 'Reporting RP', type: 'confidential', redirectUris: [REDIRECT], grantTypes: ['authorization_code'],
      backchannelLogoutUri: unused.url,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    unusedClientId = created.body.id;
  });
  after(async () => {
    await used.down();
    await unused.down();
    await server.stop();
  });

  /** Signs `who` in to agent-desktop and crm-backend in one browser; answers the user id and crm-backend's sid. */
  async function signedIn(who: { username: string; password: string }) {
    const browser = new Browser();
    const desktop = await h.signIn(browser, 'agent-desktop', undefined, who);
    const backend = await h.signIn(browser, 'crm-backend', DEMO_SECRET, who);
    const id = decodeJwt(backend.tokens.id_token!);
    return { userId: id.sub!, sid: id.sid as string, desktop: desktop.tokens.access_token, backend: backend.tokens.access_token };
  }

  const owedClients = (userId: string) => h.outbox(userId).map((r) => r.clientId).sort();

  test('admin logoff, universal logout, global revocation and user deletion: crm-backend (used) is told, the unused client is not', async () => {
    const token = await h.admin();

    const a = await signedIn(agent);
    assert.equal((await h.call('DELETE', `/api/v2/tokens/${a.userId}`, token)).status, 204);
    assert.deepEqual(owedClients(a.userId), ['crm-backend'], 'admin logoff');
    assert.deepEqual(h.outbox(a.userId).map((r) => r.sessionId), [a.sid]);
    const audit = (await h.call('GET', '/api/v2/audits?kind=admin_logoff&pageSize=1', token)).body.entities[0];
    assert.deepEqual(audit.details.backchannelLogouts.map((b: { clientId: string }) => b.clientId), ['crm-backend']);

    const on = await h.call('PATCH', '/api/v2/organizations/authentication/settings', token, { universalLogout: true });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    const b = await signedIn({ username: 'agent2@demo.test', password: DEMO_PASSWORD });
    assert.equal((await h.call('DELETE', '/api/v2/tokens/me', b.desktop)).status, 204);
    assert.deepEqual(owedClients(b.userId), ['crm-backend'], 'universal logout');
    await h.call('PATCH', '/api/v2/organizations/authentication/settings', token, { universalLogout: false });

    // Global revocation, after crm-backend's token already ended another way (idle timeout): the session still ties the user to it.
    const c = await signedIn({ username: 'supervisor@demo.test', password: DEMO_PASSWORD });
    const backendToken = (await server.authority.store.findAccessTokenByHash(sha256(c.backend)))!;
    await server.authority.store.revoke({ grantId: backendToken.grantId }, Date.now(), 'idle_timeout');
    const gtr = await fetch(server.url + '/oauth/global-token-revocation', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`automation:${DEMO_SECRET}`).toString('base64')}` },
      body: JSON.stringify({ sub_id: { format: 'email', email: 'supervisor@demo.test' } }),
    });
    assert.equal(gtr.status, 204, await gtr.text());
    assert.deepEqual(owedClients(c.userId), ['crm-backend'], 'global revocation');
    assert.deepEqual(h.outbox(c.userId).map((r) => r.sessionId), [c.sid], 'by the session its ended token came from');

    const created = await h.call('POST', '/api/v2/users', token, { email: 'leaver@demo.test', name: 'Leaver', password: 'leaver-password-1', roles: ['agent'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const d = await signedIn({ username: 'leaver@demo.test', password: 'leaver-password-1' });
    assert.equal((await h.call('DELETE', `/api/v2/users/${d.userId}`, token)).status, 204);
    assert.deepEqual(owedClients(d.userId), ['crm-backend'], 'user deletion');

    const subs = [a, b, c, d].map((x) => x.userId);
    await waitFor(() => subs.every((sub) => used.tokens.some((t) => decodeJwt(t).sub === sub)), 'crm-backend to hear of every logout');
    await server.authority.backchannel.drain();
    assert.deepEqual(unused.tokens, [], `client ${unusedClientId}, never signed in to, heard nothing`);
  });
});
