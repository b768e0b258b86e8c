import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LockstepError } from '../src/index.ts';
import { connectedTab, fakeBrowser } from './fakes/env.ts';

const revoked = (reason: string, initiatingClientId?: string) => ({
  topicName: 'v2.system.token_revoked',
  eventBody: { reason, ...(initiatingClientId ? { initiatingClientId } : {}), at: '2025-01-01T09:00:00.000Z' },
});

describe('notification channel', () => {
  it('token_revoked → ended with its reason and initiatingClientId, and no WebSocket afterwards', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    const socket = browser.lastSocket();
    socket.receive(revoked('universal_logout', 'crm-embedded'));
    socket.serverClose(4001, 'token revoked: universal_logout');
    await browser.clock.advance(0);

    assert.equal(tab.lockstep.state, 'ended');
    assert.deepEqual(tab.events.signedOut, [{
      reason: 'universal_logout', initiatingClientId: 'crm-embedded', selfInitiated: false,
      message: 'You signed out in another app', idleTimeoutMinutes: 10,
    }]);
    assert.deepEqual(tab.events.channel?.map((e) => e.state), ['connecting', 'connected', 'closed']);
    const requestsAfter = browser.server.requests.length;
    await browser.clock.advance(10 * 60_000);
    assert.equal(browser.sockets.length, 1, 'never reconnects after token_revoked');
    assert.equal(browser.server.requests.length, requestsAfter, 'no heartbeat, no channel, nothing');
  });

  it('a logout of this very client (another tab, same token) reads "You signed out"', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.lastSocket().receive(revoked('logout', 'agent-desktop'));
    await browser.clock.advance(0);
    assert.equal(tab.events.signedOut?.[0]?.selfInitiated, true);
    assert.equal(tab.events.signedOut?.[0]?.message, 'You signed out');
  });

  it('close 4001 without a token_revoked event → no reconnect; the reason comes from the token check (its 401 code)', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.tokens.get('t1')!.problem = 'idle';
    browser.lastSocket().serverClose(4001);
    await browser.clock.advance(0);
    assert.equal(tab.lockstep.state, 'ended');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
    await browser.clock.advance(5 * 60_000);
    assert.equal(browser.sockets.length, 1);
  });

  it('close 4003 → ended with reason expired, no reconnect', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.lastSocket().serverClose(4003, 'token expired');
    await browser.clock.advance(60_000);
    assert.equal(tab.events.signedOut?.[0]?.reason, 'expired');
    assert.equal(tab.events.signedOut?.[0]?.message, 'Your session expired');
    assert.equal(browser.sockets.length, 1);
  });

  it('close 1006 → reconnects after a full-jitter delay; attempts grow, and reset after a successful connect', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.setRandom(0.999);
    const reconnecting = () => tab.events.channel!.filter((e) => e.state === 'reconnecting');

    browser.lastSocket().fail();
    assert.deepEqual(reconnecting().at(-1), { state: 'reconnecting', attempt: 1, delayMs: 499 });
    await browser.clock.advance(498);
    assert.equal(browser.sockets.length, 1, 'not before the delay');
    await browser.clock.advance(1);
    assert.equal(browser.sockets.length, 2);
    assert.equal(browser.lastSocket().url, browser.sockets[0]!.url, 'same channel: no new POST');

    browser.lastSocket().serverClose(1006);
    assert.deepEqual(reconnecting().at(-1), { state: 'reconnecting', attempt: 2, delayMs: 999 });
    await browser.clock.advance(999);
    browser.lastSocket().serverClose(1006);
    assert.deepEqual(reconnecting().at(-1), { state: 'reconnecting', attempt: 3, delayMs: 1998 });
    await browser.clock.advance(1998);
    assert.equal(browser.sockets.length, 4);

    browser.lastSocket().open();
    assert.equal(tab.events.channel!.at(-1)!.state, 'connected');
    browser.lastSocket().serverClose(1001, 'server shutting down');
    assert.deepEqual(reconnecting().at(-1), { state: 'reconnecting', attempt: 1, delayMs: 499 }, 'reset after connecting');
    assert.deepEqual(browser.server.seen('POST'), ['POST /api/v2/notifications/channels']);
  });

  it('the backoff delays stay within [0, min(30 s, 500 ms·2^n)) with random just below 1', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.setRandom(0.9999);
    for (let i = 0; i < 10; i++) {
      browser.lastSocket().serverClose(1006);
      const { attempt, delayMs } = tab.events.channel!.at(-1)!;
      assert.equal(attempt, i + 1);
      assert.ok(delayMs! < Math.min(30_000, 500 * 2 ** i) && delayMs! >= 0, `attempt ${attempt}: ${delayMs}`);
      await browser.clock.advance(delayMs!);
    }
    assert.equal(tab.events.channel!.at(-1)!.delayMs, 29_997, 'capped at 30 s');
    browser.setRandom(0);
    browser.lastSocket().serverClose(1006);
    assert.equal(tab.events.channel!.at(-1)!.delayMs, 0);
  });

  it('close 4004 (unknown channel) → a new channel is created, and it gets the subscriptions back', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    await tab.lockstep.subscribe(['v2.users.u1.presence']);
    browser.lastSocket().serverClose(4004, 'unknown channel');
    await browser.clock.advance(500);
    assert.deepEqual(browser.server.seen(/channels/), [
      'POST /api/v2/notifications/channels',
      'POST /api/v2/notifications/channels/ch1/subscriptions',
      'POST /api/v2/notifications/channels',
      'PUT /api/v2/notifications/channels/ch2/subscriptions',
    ]);
    assert.equal(browser.lastSocket().url, 'wss://auth.test/notifications/channels/ch2');
    assert.deepEqual(JSON.parse(browser.server.requests.at(-1)!.body!), [{ id: 'v2.users.u1.presence' }]);
    browser.lastSocket().open();
    assert.equal(tab.lockstep.state, 'signed_in');
  });

  it('close 4002 (channel removed) → no reconnect, no new channel; signed in on the preserveIdleTTL heartbeat', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000 });
    browser.lastSocket().serverClose(4002, 'replaced by a newer connection');
    await browser.clock.advance(60_000);
    assert.equal(browser.sockets.length, 1, 'never reconnects');
    assert.deepEqual(browser.server.seen('POST /api/v2/notifications/channels'), ['POST /api/v2/notifications/channels'], 'no new channel');
    assert.equal(tab.events.channel?.at(-1)?.state, 'closed');
    assert.equal(tab.lockstep.state, 'signed_in');
    assert.equal(browser.server.seen('HEAD /api/v2/tokens/me?preserveIdleTTL=true').length, 6);
  });

  for (const code of [4000, 4005, 4500, 4999]) {
    it(`close ${code} (final range, unknown to the SDK) → no reconnect; a live token stays signed in on the heartbeat`, async () => {
      const browser = fakeBrowser();
      const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000 });
      const before = browser.server.requests.length;
      browser.lastSocket().serverClose(code);
      await browser.clock.advance(0);
      assert.deepEqual(browser.server.seen().slice(before), ['GET /api/v2/tokens/me?preserveIdleTTL=true'], 'checks the token, not as activity');
      assert.equal(tab.lockstep.state, 'signed_in');
      await browser.clock.advance(30_000);
      assert.equal(browser.sockets.length, 1, 'never reconnects to that channel');
      assert.deepEqual(browser.server.seen().slice(before + 1), Array(3).fill('HEAD /api/v2/tokens/me?preserveIdleTTL=true'));
    });
  }

  it('close 4321 (final, unknown) and the token check answers 401 → ended by its code', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.tokens.get('t1')!.refusal = { code: 'token.revoked', reason: 'user_deleted' };
    browser.lastSocket().serverClose(4321);
    await browser.clock.advance(0);
    assert.equal(tab.lockstep.state, 'ended');
    assert.deepEqual(tab.events.signedOut?.map((e) => [e.reason, e.message]), [['user_deleted', 'Your account was removed']]);
    await browser.clock.advance(60_000);
    assert.equal(browser.sockets.length, 1);
  });

  for (const code of [1001, 1011, 1012, 3000, 3999]) {
    it(`close ${code} (below 4000) → reconnects to the same channel after a full-jitter delay`, async () => {
      const browser = fakeBrowser();
      const tab = await connectedTab(browser);
      browser.setRandom(0.5);
      browser.lastSocket().serverClose(code);
      assert.deepEqual(tab.events.channel?.at(-1), { state: 'reconnecting', attempt: 1, delayMs: 250 });
      await browser.clock.advance(250);
      assert.equal(browser.sockets.length, 2);
      assert.equal(browser.lastSocket().url, browser.sockets[0]!.url);
      assert.equal(browser.server.seen(/tokens\/me/).length, 1, 'only the start check: the token is not questioned');
    });
  }

  it('subscribe POSTs [{id}] and delivers topic messages as notification events; heartbeats stay internal', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    await tab.lockstep.subscribe(['v2.users.u1.presence', 'v2.users.u1.routingstatus']);
    const post = browser.server.requests.at(-1)!;
    assert.equal(post.path, '/api/v2/notifications/channels/ch1/subscriptions');
    assert.deepEqual(JSON.parse(post.body!), [{ id: 'v2.users.u1.presence' }, { id: 'v2.users.u1.routingstatus' }]);

    const socket = browser.lastSocket();
    socket.receive({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    socket.receive({ topicName: 'v2.users.u1.presence', eventBody: { id: 'u1', presenceDefinition: { systemPresence: 'Available' } } });
    assert.deepEqual(tab.events.notification, [
      { topicName: 'v2.users.u1.presence', eventBody: { id: 'u1', presenceDefinition: { systemPresence: 'Available' } } },
    ]);
  });

  it('a refused subscription throws a LockstepError with the server message', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.routes.set('POST /api/v2/notifications/channels/ch1/subscriptions', () =>
      new Response(JSON.stringify({ status: 403, code: 'forbidden', message: "Subscribing to another user's topics requires the admin role" }), { status: 403 }));
    await assert.rejects(tab.lockstep.subscribe(['v2.users.u2.presence']), (err: LockstepError) =>
      err.code === 'subscription_failed' && /admin role/.test(err.message));
  });

  it('pings every 25 s, and a ping left unanswered until the next one is due means the connection is lost', async () => {
    const browser = fakeBrowser();
    await connectedTab(browser);
    const socket = browser.lastSocket();
    socket.autoPong = false;
    await browser.clock.advance(25_000);
    assert.deepEqual(socket.sent, [{ message: 'ping' }]);
    socket.receive({ topicName: 'channel.metadata', eventBody: { message: 'pong' } });
    await browser.clock.advance(25_000);
    assert.equal(socket.sent.length, 2);
    await browser.clock.advance(24_999); // no pong, no heartbeat
    assert.equal(socket.closedByClient, null);
    await browser.clock.advance(1);
    assert.ok(socket.closedByClient, 'the dead socket is closed');
    await browser.clock.advance(500);
    assert.equal(browser.sockets.length, 2, 'and replaced');
  });

  it('channel traffic is not API activity: pings do not move the idle deadline', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    const deadline = tab.lockstep.idleExpiresAt;
    const requests = browser.server.requests.length;
    await browser.clock.advance(100_000);
    assert.equal(browser.sockets.length, 1);
    assert.equal(browser.lastSocket().sent.length, 4);
    assert.equal(tab.lockstep.idleExpiresAt, deadline);
    assert.equal(browser.server.requests.length, requests, 'no HTTP while the channel is up');
  });
});
