import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockstepError } from '../src/index.ts';
import { connectedTab, CLIENT_ID, fakeBrowser } from './fakes/env.ts';

describe('session state machine', () => {
  it('starting → signed_in from a stored token, validated without counting as activity, then connects a channel', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { idleTimeoutSeconds: 900 });
    const issuedAt = browser.clock.now();
    const tab = browser.tab();
    tab.signedInAs('t1');
    assert.equal(tab.lockstep.state, 'starting');

    await browser.clock.advance(60_000); // a minute passes before the page loads
    assert.equal(await tab.lockstep.start(), 'signed_in');
    assert.deepEqual(tab.events.stateChange, [{ state: 'signed_in' }]);
    assert.deepEqual(tab.lockstep.user, { id: 'u1', email: 'agent@demo.test', name: 'Agent One' });
    assert.deepEqual(browser.server.seen('GET /api/v2/tokens/me'), ['GET /api/v2/tokens/me?preserveIdleTTL=true']);
    // The deadline is the server's: the last activity a minute ago plus 15 minutes.
    assert.deepEqual(tab.events.signedIn, [{ user: tab.lockstep.user, idleExpiresAt: issuedAt + 900_000 }]);

    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('POST'), ['POST /api/v2/notifications/channels']);
    // Creating the channel is an API call: the server counted it, and so did the SDK.
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 900_000);
    assert.equal(browser.lastSocket().url, 'wss://auth.test/notifications/channels/ch1');
    assert.deepEqual(tab.events.channel, [{ state: 'connecting' }]);
    browser.lastSocket().open();
    assert.deepEqual(tab.events.channel?.at(-1), { state: 'connected' });
  });

  it('signed_out when there is no token here or in another tab (after asking the other tabs for ~300 ms)', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const started = tab.lockstep.start();
    await browser.clock.advance(299);
    assert.equal(tab.lockstep.state, 'starting');
    await browser.clock.advance(1);
    assert.equal(await started, 'signed_out');
    assert.deepEqual(browser.server.requests, []);
    assert.deepEqual(browser.bus.log.map((m) => (m.data as { type: string }).type), ['token-request']);
  });

  it('a stored token the server no longer knows → signed_out, and the token is dropped', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    tab.signedInAs('gone');
    assert.equal(await tab.lockstep.start(), 'signed_out');
    assert.equal(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`), null);
    assert.deepEqual(browser.sockets, []);
  });

  it('a stored token that idled out while the tab was closed → ended with idle_timeout', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = browser.tab();
    tab.signedInAs('t1');
    await browser.clock.advance(301_000);
    assert.equal(await tab.lockstep.start(), 'ended');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
  });

  it('signOut → DELETE /api/v2/tokens/me, then ended with reason logout, selfInitiated, the screen saved to return to', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    const socket = browser.lastSocket();
    await tab.lockstep.signOut();

    assert.equal(tab.lockstep.state, 'ended');
    assert.deepEqual(browser.server.seen('DELETE'), ['DELETE /api/v2/tokens/me']);
    assert.deepEqual(tab.events.signedOut, [{
      reason: 'logout', initiatingClientId: CLIENT_ID, selfInitiated: true, message: 'You signed out', idleTimeoutMinutes: 10,
    }]);
    assert.ok(socket.closedByClient, 'the channel is closed by the client');
    assert.equal(tab.lockstep.user, null);
    assert.equal(tab.lockstep.idleExpiresAt, null);
    assert.equal(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`), null);
    assert.equal(JSON.parse(tab.storage.getItem(`lockstep:${CLIENT_ID}:returnTo`)!), '/inbox?folder=open#m42');
    await browser.clock.advance(120_000);
    assert.equal(browser.sockets.length, 1, 'no reconnect after sign-out');
    assert.deepEqual(browser.server.seen(/tokens\/me/).slice(-1), ['DELETE /api/v2/tokens/me'], 'no heartbeat after sign-out');
    await assert.rejects(tab.lockstep.fetch('/api/v2/users/me'), (err: LockstepError) => err.code === 'not_signed_in');
  });

  it('signOut while offline still ends the session here', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.routes.set('DELETE /api/v2/tokens/me', () => Promise.reject(new TypeError('Failed to fetch')));
    await tab.lockstep.signOut();
    assert.equal(tab.lockstep.state, 'ended');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'logout');
  });

  it('fetch adds the bearer token, takes the deadline the server answers, and a 401 token.revoked ends the session by its reason', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    const before = tab.lockstep.idleExpiresAt!;
    await browser.clock.advance(5000);
    const ok = await tab.lockstep.fetch('/api/v2/users/u1/presence', { headers: { accept: 'application/json' } });
    assert.equal(ok.status, 200);
    const seen = browser.server.requests.at(-1)!;
    assert.equal(seen.headers.get('authorization'), 'Bearer t1');
    assert.equal(seen.headers.get('accept'), 'application/json');
    assert.equal(tab.lockstep.idleExpiresAt, before + 5000, 'the idle deadline the server answered');

    browser.server.tokens.get('t1')!.problem = 'revoked';
    browser.server.tokens.get('t1')!.revokeReason = 'universal_logout';
    browser.lastSocket().serverClose(1006); // the channel cannot tell why any more
    const refused = await tab.lockstep.fetch('/api/v2/users/u1/presence');
    assert.equal(refused.status, 401);
    await browser.clock.advance(0);
    assert.equal(tab.lockstep.state, 'ended', 'at once: the 401 names the reason');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'universal_logout');
    assert.equal(tab.events.signedOut?.[0]?.selfInitiated, false);
    assert.equal(tab.events.signedOut?.[0]?.message, 'You signed out in another app');
  });

  it('a 401 token.revoked without a reason asks the channel why: a late reconnect to the ended channel names it', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.lastSocket().serverClose(1006);
    browser.server.tokens.get('t1')!.problem = 'revoked';
    await tab.lockstep.fetch('/api/v2/anything');
    await browser.clock.advance(0);
    assert.equal(browser.sockets.length, 2, 'reconnected at once instead of waiting for the backoff');
    const late = browser.lastSocket();
    late.open();
    late.receive({ topicName: 'v2.system.token_revoked', eventBody: { reason: 'admin_logoff', initiatingClientId: 'automation', at: '2025-01-01T09:00:00Z' } });
    late.serverClose(4001);
    await browser.clock.advance(0);
    assert.deepEqual(tab.events.signedOut?.map((e) => [e.reason, e.initiatingClientId, e.message]), [['admin_logoff', 'automation', 'An administrator signed you out']]);
  });

  it('a 401 token.idle_timeout from fetch ends with idle_timeout', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.tokens.get('t1')!.problem = 'idle';
    await tab.lockstep.fetch('/api/v2/anything');
    await browser.clock.advance(0);
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
    assert.equal(tab.events.signedOut?.[0]?.message, 'Signed out after 10 minutes without activity');
  });

  it('fetch never sends the token to another origin', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    await assert.rejects(tab.lockstep.fetch('https://evil.test/steal'), (err: LockstepError) => err.code === 'foreign_url');
    await assert.rejects(tab.lockstep.fetch('//evil.test/steal'), (err: LockstepError) => err.code === 'foreign_url');
    const absolute = await tab.lockstep.fetch('https://auth.test/api/v2/users');
    assert.equal(absolute.status, 200);
  });
});

describe('an unreachable or failing server at start', () => {
  it('keeps the stored session (as last known) and lets the heartbeat check again', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1');
    const tab = browser.tab();
    tab.storage.setItem(`lockstep:${CLIENT_ID}:token`, JSON.stringify({ accessToken: 't1', expiresAt: null, sid: 's1', user: { id: 'u1', email: 'a@b', name: 'A' } }));
    browser.server.routes.set('GET /api/v2/tokens/me', () => new Response('{"status":503}', { status: 503 }));
    browser.server.routes.set('POST /api/v2/notifications/channels', () => Promise.reject(new TypeError('Failed to fetch')));
    assert.equal(await tab.lockstep.start(), 'signed_in');
    assert.deepEqual(tab.lockstep.user, { id: 'u1', email: 'a@b', name: 'A' });
    assert.equal(tab.lockstep.idleExpiresAt, null);

    browser.server.routes.clear();
    await browser.clock.advance(30_000);
    assert.equal(tab.lockstep.idleExpiresAt, browser.server.tokens.get('t1')!.lastActivityAt + 600_000, 'the heartbeat learned the deadline');
    assert.equal(tab.lockstep.user?.name, 'Agent One');
  });
});
