/**
 * OpenID Connect Back-Channel Logout from the durable outbox, against a real receiver:
 * the endpoint is down for a while (503, then refused connections), then up — the logout
 * token arrives after it comes back, also across a server restart; a receiver that keeps
 * the `jti`s it acted on acts once even when the token is delivered twice; 4xx is not
 * retried; 24 h after the logout a still-failing delivery gives up. Backoff runs on an
 * injected clock, so every retry is driven by hand with `backchannel.drain()`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { BACKCHANNEL_EVENT, BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** What crm-backend checks of each request beyond the receiver's standard logout-token verification. */
function rpChecks(req: IncomingMessage, payload: JWTPayload, header: JWTHeaderParameters) {
  assert.equal(req.method, 'POST');
  assert.match(req.headers['content-type'] ?? '', /^application\/x-www-form-urlencoded\b/);
  assert.equal(header.typ, 'logout+jwt');
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
}

/** crm-backend's back-channel logout endpoint on the server's injected clock: verifies each logout token as an RP must, and acts on each jti once. */
const receiverOn = (clock: ManualClock) => new BackchannelReceiver({ now: () => clock.now(), check: rpChecks });

interface Attempt {
  at: string;
  details: {
    jti: string; attempt: number; outcome: 'retry' | 'delivered' | 'failed'; result: string; statusCode: number | null; error: string | null; nextAttemptAt: string | null;
  };
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
        postLogoutRedirectUris: c.postLogoutRedirectUris, backchannelLogoutUri: uri, roles: c.roles, loopbackAnyPort: c.loopbackAnyPort,
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.backchannelLogoutUri, uri);
    },
    async setUniversal(on: boolean) {
      const r = await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: on });
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
      const entries = (await call('GET', `/api/v2/audits?kind=${kind}&pageSize=1`, await admin())).body.entities;
      const owed = entries[0].details.backchannelLogouts as { clientId: string; jti: string }[];
      assert.equal(owed.length, 1, `one back-channel logout owed: ${JSON.stringify(owed)}`);
      assert.equal(owed[0]!.clientId, 'crm-backend');
      return owed[0]!.jti;
    },
    /** The `backchannel_logout` audit entries of one jti, first attempt first. */
    async attempts(jti: string): Promise<Attempt[]> {
      const r = await call('GET', '/api/v2/audits?kind=backchannel_logout&pageSize=500', await admin());
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
  const receiver = receiverOn(clock);
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
    assert.equal(attempts[1]!.details.error, 'network_error', 'a refused connection is recorded as its class, not as the raw error');
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
  const receiver = receiverOn(clock);
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
    assert.equal(attempts[0]!.details.error, 'network_error');

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
