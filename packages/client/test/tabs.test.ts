import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_ID, connectedTab, fakeBrowser } from './fakes/env.ts';

describe('tabs of one client share one token and one state', () => {
  it('a new tab gets the token from an existing tab (not from the server, not from localStorage)', async () => {
    const browser = fakeBrowser();
    const first = await connectedTab(browser);
    const second = browser.tab({ href: 'https://app.test/reports' });
    const started = second.lockstep.start();
    await browser.clock.advance(0);
    assert.equal(await started, 'signed_in', 'answered before the 300 ms wait ran out');
    assert.deepEqual(second.lockstep.user, first.lockstep.user);
    assert.equal(JSON.parse(second.storage.getItem(`lockstep:${CLIENT_ID}:token`)!).accessToken, 't1');
    assert.equal(browser.server.requests.filter((r) => r.path === '/oauth/token').length, 0);
    await browser.clock.advance(0);
    assert.equal(browser.sockets.length, 2, 'each tab has its own channel');
  });

  it('signOut in one tab ends the other at once, as "You signed out"', async () => {
    const browser = fakeBrowser();
    const first = await connectedTab(browser);
    const second = browser.tab();
    second.signedInAs('t1'); // same token, same sid (as handed over by the first tab)
    await second.lockstep.start();
    await browser.clock.advance(0);
    const secondSocket = browser.lastSocket();
    secondSocket.open();

    await first.lockstep.signOut();
    await browser.clock.advance(0);
    assert.equal(second.lockstep.state, 'ended');
    assert.deepEqual(second.events.signedOut, [{
      reason: 'logout', initiatingClientId: CLIENT_ID, selfInitiated: true, message: 'You signed out', idleTimeoutMinutes: 10,
    }]);
    assert.ok(secondSocket.closedByClient);
    assert.equal(second.storage.getItem(`lockstep:${CLIENT_ID}:token`), null);
    assert.equal(first.events.signedOut?.length, 1, 'the tab that signed out is not told twice');
  });

  it('a revocation seen by one tab ends the others with the same reason, even if their channel missed it', async () => {
    const browser = fakeBrowser();
    const first = await connectedTab(browser);
    const firstSocket = browser.lastSocket();
    const second = browser.tab();
    const started = second.lockstep.start();
    await browser.clock.advance(0);
    await started;

    firstSocket.receive({ topicName: 'v2.system.token_revoked', eventBody: { reason: 'admin_logoff', initiatingClientId: 'automation', at: '2025-01-01T09:00:00Z' } });
    await browser.clock.advance(0);
    assert.equal(first.lockstep.state, 'ended');
    assert.equal(second.lockstep.state, 'ended');
    assert.deepEqual(second.events.signedOut?.map((e) => [e.reason, e.initiatingClientId, e.message]), [['admin_logoff', 'automation', 'An administrator signed you out']]);
  });

  it('the deadline one tab hears from the server holds in the other tabs (activity moves it; an excluded poll does not)', async () => {
    const browser = fakeBrowser();
    browser.server.inactivityTimeoutExclusions.add('/api/v2/queues/q1/stats');
    const first = await connectedTab(browser);
    const second = browser.tab();
    const started = second.lockstep.start();
    await browser.clock.advance(0);
    await started;
    await browser.clock.advance(120_000);
    await first.lockstep.fetch('/api/v2/users');
    await browser.clock.advance(0);
    const moved = browser.clock.now() + 600_000;
    assert.equal(second.lockstep.idleExpiresAt, moved);
    assert.deepEqual(browser.bus.log.at(-1)?.data, { type: 'idle-deadline', sid: 'sid-t1', idleExpiresAt: moved });

    await browser.clock.advance(60_000);
    await first.lockstep.fetch('/api/v2/queues/q1/stats');
    await browser.clock.advance(0);
    assert.equal(first.lockstep.idleExpiresAt, moved);
    assert.equal(second.lockstep.idleExpiresAt, moved);
  });

  it('a sign-out of another token (another session) does not end this tab', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t2');
    const first = await connectedTab(browser, 't1');
    const other = browser.tab();
    other.signedInAs('t2');
    await other.lockstep.start();
    await other.lockstep.signOut();
    await browser.clock.advance(0);
    assert.equal(first.lockstep.state, 'signed_in');
  });

  it('an ended tab follows when another tab signs in again', async () => {
    const browser = fakeBrowser();
    const first = await connectedTab(browser);
    await first.lockstep.signOut();

    browser.server.issue('t9');
    const fresh = browser.tab();
    fresh.signedInAs('t9'); // the redirect callback stored a new token in this tab
    assert.equal(await fresh.lockstep.start(), 'signed_in');
    await browser.clock.advance(0);
    assert.equal(first.lockstep.state, 'signed_in');
    assert.deepEqual(first.events.stateChange?.map((e) => e.state), ['signed_in', 'ended', 'signed_in']);
    assert.equal(JSON.parse(first.storage.getItem(`lockstep:${CLIENT_ID}:token`)!).accessToken, 't9');
  });
});
