/**
 * OpenID Connect Back-Channel Logout from the durable outbox, against a real receiver:
 * the endpoint is down for a while (503, then refused connections), then up — the logout
 * token arrives after it comes back, also across a server restart; a receiver that keeps
 * the `jti`s it acted on acts once even when the token is delivered twice; 4xx is not
 * retried; 24 h after the logout a still-failing delivery gives up. Backoff runs on an
 * injected clock, so every retry is driven by hand with `backchannel.drain()`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * How the receiver answers:
 * - `ok`: verifies, acts (once per jti), 200;
 * - `unavailable`: 503 without looking at the request (the service behind a proxy is down);
 * - `bad-request`: verifies, then refuses with 400 without acting;
 * - `act-then-fail-once`: verifies and acts, but answers 500 the first time it sees a jti (a crash after acting);
 * - `slow`: like `ok`, but answers only after 700 ms (longer than the deliverer's 500 ms poll interval).
 */
type Answer = 'ok' | 'unavailable' | 'bad-request' | 'act-then-fail-once' | 'slow';

/** crm-backend's back-channel logout endpoint: verifies each logout token as an RP must, and acts on each jti once. */
class Receiver {
  /** The issuer the tokens must name (the URL of the server that currently delivers). */
  issuer = '';
  answer: Answer = 'ok';
  /** Every HTTP request, with the status answered. */
  readonly hits: { status: number }[] = [];
  /** Every verified logout token, in arrival order (a duplicate delivery shows up twice). */
  readonly received: JWTPayload[] = [];
  /** The logouts acted on: one per jti, ever. */
  readonly actions: JWTPayload[] = [];
  /** Why a request carried no acceptable logout token. */
  readonly rejected: string[] = [];
  readonly #acted = new Set<string>();
  readonly #failedOnce = new Set<string>();
  readonly #jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  #server: Server | null = null;
  #port = 0;

  constructor(private readonly now: () => number) {}

  get url() {
    assert.ok(this.#port, 'the receiver has been up once');
    return `http://127.0.0.1:${this.#port}/backchannel-logout`;
  }

  receivedOf(jti: string) {
    return this.received.filter((p) => p.jti === jti);
  }
  actionsOf(jti: string) {
    return this.actions.filter((p) => p.jti === jti);
  }

  /** Listens (again on the same port after the first time, so the URL the outbox holds stays right). */
  async up() {
    assert.equal(this.#server, null, 'already up');
    const server = createServer((req, res) => void this.#handle(req, res));
    server.listen(this.#port, '127.0.0.1');
    await once(server, 'listening');
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops listening and drops kept-alive connections: the next delivery gets "connection refused". */
  async down() {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise((r) => server.close(r));
    server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const answer = (status: number) => {
      this.hits.push({ status });
      res.writeHead(status, { 'cache-control': 'no-store' }).end();
    };
    let body = '';
    req.setEncoding('utf8');
    for await (const chunk of req) body += chunk;
    if (this.answer === 'unavailable') return answer(503);

    let payload: JWTPayload;
    try {
      payload = await this.#verify(req, body);
    } catch (err) {
      this.rejected.push((err as Error).message);
      return answer(400);
    }
    this.received.push(payload);
    if (this.answer === 'bad-request') return answer(400);

    const jti = payload.jti!;
    if (!this.#acted.has(jti)) {
      this.#acted.add(jti);
      this.actions.push(payload);
    }
    if (this.answer === 'act-then-fail-once' && !this.#failedOnce.has(jti)) {
      this.#failedOnce.add(jti);
      return answer(500);
    }
    if (this.answer === 'slow') await new Promise((r) => setTimeout(r, 700));
    answer(200);
  }

  /** OpenID Connect Back-Channel Logout 1.0, section 2.6: what an RP checks before it acts. */
  async #verify(req: IncomingMessage, body: string): Promise<JWTPayload> {
    assert.equal(req.method, 'POST');
    assert.match(req.headers['content-type'] ?? '', /^application\/x-www-form-urlencoded\b/);
    const form = new URLSearchParams(body);
    const token = form.get('logout_token');
    assert.ok(token, 'a logout_token form parameter');
    let jwks = this.#jwks.get(this.issuer);
    if (!jwks) this.#jwks.set(this.issuer, (jwks = createRemoteJWKSet(new URL(`${this.issuer}/oauth/jwks`))));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: this.issuer, audience: 'crm-backend', typ: 'logout+jwt', currentDate: new Date(this.now()),
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'sub', 'sid', 'events'],
    });
    assert.equal(protectedHeader.typ, 'logout+jwt');
    assert.equal(typeof payload.iat, 'number');
    assert.equal(typeof payload.exp, 'number');
    assert.ok(payload.exp! > payload.iat!, 'exp after iat');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti!.length > 0);
    assert.equal(typeof payload.sub, 'string');
    assert.equal(typeof payload.sid, 'string');
    const events = payload.events as Record<string, unknown>;
    assert.equal(typeof events, 'object');
    assert.ok(events && Object.hasOwn(events, BACKCHANNEL_EVENT), 'the back-channel logout event');
    assert.deepEqual(events[BACKCHANNEL_EVENT], {});
    assert.equal('nonce' in payload, false, 'a logout token must not carry a nonce');
    return payload;
  }
}

interface Attempt {
  at: string;
  details: { jti: string; attempt: number; outcome: 'retry' | 'delivered' | 'failed'; statusCode: number | null; error: string | null; nextAttemptAt: string | null };
}

/** The pieces every scenario needs against one server. */
function harness(get: () => { server: TestServer; clock: ManualClock }) {
  const call = (method: string, path: string, token: string, body?: unknown) => api(get().server.url)(method, path, token, body);
  const admin = () => automationToken(get().server.url, DEMO_SECRET);
  const skew = () => (get().clock.now() - Date.now()) / 1000;

  return {
    call,
    admin,
    /** PUT the whole client body with a new back-channel logout URI. */
    async pointCrmBackendAt(uri: string) {
      const token = await admin();
      const current = await call('GET', '/api/v2/oauth/clients/crm-backend', token);
      assert.equal(current.status, 200, JSON.stringify(current.body));
      const c = current.body;
      const put = await call('PUT', '/api/v2/oauth/clients/crm-backend', token, {
        name: c.name, type: c.type, redirectUris: c.redirectUris, grantTypes: c.grantTypes,
        postLogoutRedirectUris: c.postLogoutRedirectUris, backchannelLogoutUri: uri, roles: c.roles,
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.backchannelLogoutUri, uri);
    },
    async setUniversal(on: boolean) {
      const r = await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogoutEnabled: on });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    },
    signIn(browser: Browser, clientId: 'crm-backend' | 'agent-desktop') {
      return signIn(get().server.url, browser, {
        clientId, clockSkewSeconds: skew(), ...(clientId === 'crm-backend' ? { clientSecret: DEMO_SECRET } : {}),
      }, agent);
    },
    /** DELETE /api/v2/tokens/me; answers the jti of the single back-channel logout the logout queued for crm-backend. */
    async logout(accessToken: string, kind: 'logout' | 'universal_logout') {
      const { server } = get();
      assert.equal((await call('DELETE', '/api/v2/tokens/me', accessToken)).status, 204);
      // The logout pokes the deliverer: wait for that first attempt.
      await server.authority.backchannel.drain();
      const entries = (await call('GET', `/api/v2/audits?kind=${kind}&limit=1`, await admin())).body.entities;
      const owed = entries[0].details.backchannelLogouts as { clientId: string; jti: string }[];
      assert.equal(owed.length, 1, `one back-channel logout owed: ${JSON.stringify(owed)}`);
      assert.equal(owed[0]!.clientId, 'crm-backend');
      return owed[0]!.jti;
    },
    /** The `backchannel_logout` audit entries of one jti, first attempt first. */
    async attempts(jti: string): Promise<Attempt[]> {
      const r = await call('GET', '/api/v2/audits?kind=backchannel_logout&limit=1000', await admin());
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.entities as Attempt[]).filter((e) => e.details.jti === jti).sort((x, y) => x.details.attempt - y.details.attempt);
    },
    /** Moves the injected clock and delivers whatever became due. */
    async step(ms: number) {
      get().clock.advance(ms);
      await get().server.authority.backchannel.drain();
    },
  };
}

const outcomes = (attempts: Attempt[]) => attempts.map((a) => [a.details.outcome, a.details.statusCode]);

describe('back-channel logout to an endpoint that is down for a while (injected clock)', () => {
  let server: TestServer;
  const clock = new ManualClock(Date.now());
  const receiver = new Receiver(() => clock.now());
  const h = harness(() => ({ server, clock }));

  before(async () => {
    server = await startTestServer({ clock });
    receiver.issuer = server.url;
    await receiver.up();
    await h.pointCrmBackendAt(receiver.url);
  });
  after(async () => {
    await receiver.down();
    await server.stop();
  });

  test('503, then connection refused, then up: delivered exactly once after it comes back; each attempt audited with its outcome and the same jti', async () => {
    const browser = new Browser();
    const { tokens } = await h.signIn(browser, 'crm-backend');
    const idToken = decodeJwt(tokens.id_token!);

    receiver.answer = 'unavailable';
    const jti = await h.logout(tokens.access_token, 'logout');
    let attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), [['retry', 503]], 'the first attempt, right after the logout, met a 503');
    const first = attempts[0]!;
    const wait = Date.parse(first.details.nextAttemptAt!) - Date.parse(first.at);
    assert.ok(wait >= 250 && wait < 250 + 1000, `first retry after the minimum plus full jitter of 1 s: ${wait} ms`);

    await receiver.down();
    await h.step(10 * MINUTE);
    attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), [['retry', 503], ['retry', null]], 'the second attempt found nobody listening');
    assert.match(attempts[1]!.details.error ?? '', /ECONNREFUSED/);
    const wait2 = Date.parse(attempts[1]!.details.nextAttemptAt!) - Date.parse(attempts[1]!.at);
    assert.ok(wait2 >= 250 && wait2 < 250 + 2000, `second retry after the minimum plus full jitter of 2 s: ${wait2} ms`);
    assert.equal(receiver.received.length, 0, 'nothing has reached the receiver yet');

    await receiver.up();
    receiver.answer = 'ok';
    await h.step(10 * MINUTE);
    attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), [['retry', 503], ['retry', null], ['delivered', 200]]);
    assert.deepEqual(attempts.map((a) => a.details.attempt), [1, 2, 3]);
    assert.equal(attempts[2]!.details.nextAttemptAt, null);
    assert.ok(attempts.every((a) => a.details.jti === jti));
    assert.deepEqual(receiver.rejected, [], 'every token the receiver saw was valid');
    assert.equal(receiver.receivedOf(jti).length, 1);
    assert.equal(receiver.actionsOf(jti).length, 1, 'acted on exactly once');
    const payload = receiver.actionsOf(jti)[0]!;
    assert.equal(payload.sub, idToken.sub);
    assert.equal(payload.sid, idToken.sid, 'the sid of the crm-backend session that logged out');
    assert.equal(payload.iss, server.url);
    assert.equal(payload.iat, Math.floor(Date.parse(attempts[2]!.at) / 1000), 'signed when sent, on the injected clock');

    await h.step(HOUR);
    assert.equal((await h.attempts(jti)).length, 3, 'a delivered logout is not sent again');
    assert.equal(receiver.receivedOf(jti).length, 1);
  });

  test('acted on but answered 500: retried, the receiver sees the jti twice and acts once', async () => {
    const { tokens } = await h.signIn(new Browser(), 'crm-backend');
    receiver.answer = 'act-then-fail-once';
    const jti = await h.logout(tokens.access_token, 'logout');
    assert.deepEqual(outcomes(await h.attempts(jti)), [['retry', 500]]);

    await h.step(10 * MINUTE);
    assert.deepEqual(outcomes(await h.attempts(jti)), [['retry', 500], ['delivered', 200]]);
    const received = receiver.receivedOf(jti);
    assert.equal(received.length, 2, 'delivered twice');
    assert.equal(received[0]!.sid, received[1]!.sid);
    assert.equal(received[0]!.sub, received[1]!.sub);
    assert.equal(receiver.actionsOf(jti).length, 1, 'acted on once');
    assert.deepEqual(receiver.rejected, []);
    receiver.answer = 'ok';
  });

  test('a slow receiver: drain() and the deliverer\'s own poller together still send each due logout once', async () => {
    const { tokens } = await h.signIn(new Browser(), 'crm-backend');
    receiver.answer = 'unavailable';
    const jti = await h.logout(tokens.access_token, 'logout');
    receiver.answer = 'slow';
    await h.step(10 * MINUTE); // the poller ticks at least once while this attempt waits for its answer
    await new Promise((r) => setTimeout(r, 1200));
    await server.authority.backchannel.drain();
    assert.deepEqual(outcomes(await h.attempts(jti)), [['retry', 503], ['delivered', 200]]);
    assert.equal(receiver.receivedOf(jti).length, 1, 'sent once');
    receiver.answer = 'ok';
  });

  test('a 4xx answer is not retried: outcome failed', async () => {
    const { tokens } = await h.signIn(new Browser(), 'crm-backend');
    receiver.answer = 'bad-request';
    const jti = await h.logout(tokens.access_token, 'logout');
    let attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), [['failed', 400]]);
    assert.equal(attempts[0]!.details.nextAttemptAt, null);

    receiver.answer = 'ok';
    await h.step(10 * MINUTE);
    await h.step(2 * HOUR);
    attempts = await h.attempts(jti);
    assert.equal(attempts.length, 1, 'no further attempt after a 4xx');
    assert.equal(receiver.receivedOf(jti).length, 1);
    assert.equal(receiver.actionsOf(jti).length, 0);
  });

  test('still failing 24 h after the logout: the delivery gives up (outcome failed) and is not tried again', async () => {
    const { tokens } = await h.signIn(new Browser(), 'crm-backend');
    receiver.answer = 'unavailable';
    const jti = await h.logout(tokens.access_token, 'logout');
    const createdAt = Date.parse((await h.attempts(jti))[0]!.at);

    for (const ms of [6 * HOUR, 6 * HOUR, 6 * HOUR, 5 * HOUR + 50 * MINUTE]) await h.step(ms);
    let attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), Array.from({ length: 5 }, () => ['retry', 503]), 'retried for almost 24 h');
    assert.ok(Date.parse(attempts[4]!.at) - createdAt < 24 * HOUR);

    // Past any backoff (capped at 5 min) and past 24 h since the logout.
    await h.step(15 * MINUTE);
    attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts).at(-1), ['failed', 503], 'the attempt after 24 h gives up');
    assert.equal(attempts.length, 6);
    assert.ok(Date.parse(attempts[5]!.at) - createdAt >= 24 * HOUR);
    assert.equal(attempts[5]!.details.nextAttemptAt, null);

    receiver.answer = 'ok';
    await h.step(HOUR);
    assert.equal((await h.attempts(jti)).length, 6, 'a given-up delivery is not tried again');
    assert.equal(receiver.receivedOf(jti).length, 0);
  });
});

describe('back-channel logout pending across a server restart (injected clock)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-bcl-restart-'));
  const clock = new ManualClock(Date.now());
  const receiver = new Receiver(() => clock.now());
  let server: TestServer;
  const h = harness(() => ({ server, clock }));

  after(async () => {
    await receiver.down();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('universal logout while the endpoint refuses connections; restart on the same data; endpoint back: delivered once', async () => {
    server = await startTestServer({ clock, dataDir });
    await receiver.up();
    await receiver.down(); // it has a port now; nobody listens on it
    await h.pointCrmBackendAt(receiver.url);
    await h.setUniversal(true);

    const browser = new Browser();
    const desktop = await h.signIn(browser, 'agent-desktop');
    const backend = await h.signIn(browser, 'crm-backend');
    assert.equal(backend.passwordPrompted, false, 'one browser sign-in session');
    const backendId = decodeJwt(backend.tokens.id_token!);

    // The agent logs out of the desktop app; crm-backend is owed a back-channel logout.
    const jti = await h.logout(desktop.tokens.access_token, 'universal_logout');
    const attempts = await h.attempts(jti);
    assert.deepEqual(outcomes(attempts), [['retry', null]]);
    assert.match(attempts[0]!.details.error ?? '', /ECONNREFUSED/);

    await server.stop();
    server = await startTestServer({ clock, dataDir });
    await server.authority.backchannel.drain();
    assert.equal((await h.attempts(jti)).length, 1, 'not yet due after the restart: nothing tried');

    receiver.issuer = server.url;
    await receiver.up();
    receiver.answer = 'ok';
    await h.step(10 * MINUTE);
    assert.deepEqual(outcomes(await h.attempts(jti)), [['retry', null], ['delivered', 200]], 'the restarted server delivered it');
    assert.deepEqual(receiver.rejected, []);
    assert.equal(receiver.receivedOf(jti).length, 1);
    assert.equal(receiver.actionsOf(jti).length, 1);
    const payload = receiver.actionsOf(jti)[0]!;
    assert.equal(payload.sub, backendId.sub);
    assert.equal(payload.sid, backendId.sid);
    assert.equal(payload.iss, server.url, 'signed by the restarted server');

    await h.step(HOUR);
    assert.equal(receiver.received.length, 1, 'nothing else was sent');
  });
});
