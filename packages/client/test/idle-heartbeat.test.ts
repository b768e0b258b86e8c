import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedTab, fakeBrowser } from './fakes/env.ts';

const CHECK = 'HEAD /api/v2/tokens/me?preserveIdleTTL=true';
const ACTIVITY = 'HEAD /api/v2/tokens/me';
const INFO_CHECK = 'GET /api/v2/tokens/me?preserveIdleTTL=true';
/** The activity HEAD only (seen() matches prefixes, so the heartbeat would match ACTIVITY too). */
const activityCalls = (browser: ReturnType<typeof fakeBrowser>) => browser.server.seen(ACTIVITY).filter((line) => line === ACTIVITY);

describe('fallback heartbeat', () => {
  it('checks the token every heartbeatIntervalMs while no channel is up, never while one is', async () => {
    const browser = fakeBrowser();
    await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000 });
    const checksAtStart = browser.server.seen(CHECK).length;
    await browser.clock.advance(30_000);
    assert.equal(browser.server.seen(CHECK).length, checksAtStart, 'no heartbeat while connected');

    browser.lastSocket().serverClose(1006); // and the reconnect never gets an answer
    await browser.clock.advance(10_000);
    assert.equal(browser.server.seen(CHECK).length, checksAtStart + 1);
    await browser.clock.advance(10_000);
    assert.equal(browser.server.seen(CHECK).length, checksAtStart + 2);

    browser.lastSocket().open();
    await browser.clock.advance(30_000);
    assert.equal(browser.server.seen(CHECK).length, checksAtStart + 2, 'stops once the channel is back');
  });

  it('with the channel down the heartbeat sends preserveIdleTTL=true: it is not activity, the token idles out on time', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000, idleWarningMs: 0 });
    const lastActivity = token.lastActivityAt;
    const deadline = tab.lockstep.idleExpiresAt;
    browser.lastSocket().serverClose(1006); // and the reconnects never get an answer
    await browser.clock.advance(290_000);
    assert.ok(browser.server.seen(CHECK).length >= 28, 'the heartbeat ran');
    assert.deepEqual(browser.server.seen('HEAD').filter((l) => l !== CHECK), [], 'no heartbeat without preserveIdleTTL=true');
    assert.equal(token.lastActivityAt, lastActivity, 'the server never counted a heartbeat');
    assert.equal(tab.lockstep.idleExpiresAt, deadline, 'nor did the SDK move its deadline');
    assert.equal(tab.lockstep.state, 'signed_in');

    await browser.clock.advance(10_000);
    assert.equal(tab.lockstep.state, 'ended', 'idled out at the deadline (300 s after the last activity)');
    assert.equal(browser.clock.now() - lastActivity >= 300_000, true);
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
    assert.equal(tab.events.signedOut?.[0]?.message, 'Signed out after 5 minutes without activity');
  });

  it('a heartbeat 401 (HEAD: the code is in WWW-Authenticate only) ends the session by its code', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1');
    const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000 });
    browser.lastSocket().serverClose(1006);
    token.problem = 'revoked';
    token.revokeReason = 'admin_logoff'; // the channel event was missed
    await browser.clock.advance(10_000);
    assert.deepEqual(browser.server.seen('HEAD'), [CHECK]);
    assert.equal(tab.lockstep.state, 'ended');
    assert.deepEqual(tab.events.signedOut?.map((e) => [e.reason, e.message]), [['admin_logoff', 'An administrator signed you out']]);
  });

  it('a heartbeat that cannot reach the server just tries again', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000 });
    browser.lastSocket().serverClose(1006);
    browser.server.routes.set('HEAD /api/v2/tokens/me', () => Promise.reject(new TypeError('Failed to fetch')));
    await browser.clock.advance(30_000);
    assert.equal(tab.lockstep.state, 'signed_in');
    assert.equal(browser.server.seen(CHECK).length, 3);
  });
});

describe('idle deadline', () => {
  it('idleWarning fires idleWarningMs before the deadline; staySignedIn records activity and re-arms it', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1', { idleWarningMs: 60_000 });
    const warnings = () => tab.events.idleWarning ?? [];
    const deadline = tab.lockstep.idleExpiresAt!;
    assert.equal(deadline, browser.clock.now() + 300_000);

    await browser.clock.advance(239_999);
    assert.deepEqual(warnings(), []);
    await browser.clock.advance(1);
    assert.deepEqual(warnings(), [{ idleExpiresAt: deadline, msLeft: 60_000 }]);

    await browser.clock.advance(30_000);
    await tab.lockstep.staySignedIn();
    assert.deepEqual(browser.server.seen('HEAD'), [ACTIVITY], 'staySignedIn is activity: no preserveIdleTTL');
    const next = tab.lockstep.idleExpiresAt!;
    assert.equal(next, browser.clock.now() + 300_000);
    assert.deepEqual(tab.events.idleReset, [{ idleExpiresAt: next }]);

    await browser.clock.advance(239_999);
    assert.equal(warnings().length, 1);
    await browser.clock.advance(1);
    assert.deepEqual(warnings()[1], { idleExpiresAt: next, msLeft: 60_000 });
  });

  it('when the deadline passes, the SDK asks the server without counting as activity; a 401 ends with idle_timeout', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1');
    const checks = browser.server.seen(INFO_CHECK).length;
    await browser.clock.advance(300_000);
    assert.equal(browser.server.seen(INFO_CHECK).length, checks + 1);
    assert.equal(token.problem, 'idle');
    assert.equal(tab.lockstep.state, 'ended');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
    assert.equal(tab.events.signedOut?.[0]?.idleTimeoutMinutes, 5);
    assert.equal(browser.lastSocket().closedByClient != null, true);
  });

  it('activity of the same token elsewhere (the server says so) keeps the session and moves the deadline', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1');
    await browser.clock.advance(200_000);
    token.lastActivityAt = browser.clock.now(); // another client with this token called the API
    await browser.clock.advance(100_000);
    assert.equal(tab.lockstep.state, 'signed_in');
    assert.equal(tab.lockstep.idleExpiresAt, token.lastActivityAt + 300_000);
    assert.deepEqual(tab.events.idleReset, [{ idleExpiresAt: token.lastActivityAt + 300_000 }]);
  });

  it('no idle timeout for the token → idleExpiresAt null, no warning, no idle checks', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { idleTimeoutSeconds: null });
    const tab = await connectedTab(browser, 't1');
    assert.equal(tab.lockstep.idleExpiresAt, null);
    assert.deepEqual(tab.events.signedIn?.[0]?.idleExpiresAt, null);
    const checks = browser.server.seen(INFO_CHECK).length;
    await browser.clock.advance(600_000);
    assert.equal(tab.events.idleWarning, undefined);
    assert.equal(browser.server.seen(INFO_CHECK).length, checks);
  });

  it('the deadline is the one the server answers: an excluded-path poll (deadline unchanged) does not push the warning back', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    browser.server.inactivityTimeoutExclusions.add('/api/v2/queues/q1/stats');
    const tab = await connectedTab(browser, 't1', { idleWarningMs: 60_000 });
    const deadline = tab.lockstep.idleExpiresAt!;
    for (let t = 0; t < 24; t++) {
      await browser.clock.advance(10_000);
      const poll = await tab.lockstep.fetch('/api/v2/queues/q1/stats');
      assert.equal(poll.headers.get('lockstep-idle-expires'), new Date(deadline).toISOString(), 'the server answers the unchanged deadline');
    }
    assert.equal(tab.lockstep.idleExpiresAt, deadline);
    assert.deepEqual(tab.events.idleWarning, [{ idleExpiresAt: deadline, msLeft: 60_000 }], 'warned on time, 60 s before the server logs out');

    await tab.lockstep.fetch('/api/v2/users/u1/presence', { method: 'PATCH', body: '{}' }); // real activity
    assert.equal(tab.lockstep.idleExpiresAt, token.lastActivityAt + 300_000);
    assert.deepEqual(tab.events.idleReset, [{ idleExpiresAt: token.lastActivityAt + 300_000 }]);
  });

  it('a call the server does not count (Lockstep-Activity: background) leaves the deadline where the server says', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1');
    const deadline = tab.lockstep.idleExpiresAt;
    await browser.clock.advance(60_000);
    await tab.lockstep.fetch('/api/v2/users/u1/presence', { headers: { 'lockstep-activity': 'background' } });
    assert.equal(tab.lockstep.idleExpiresAt, deadline);
    await tab.lockstep.fetch('/api/v2/users/u1/presence');
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 300_000);
  });

  it('no header on an /api/v2 answer: no idle timeout applies now (an exempt token); the header back: the deadline again', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1');
    token.idleTimeoutSeconds = null; // exempt (a call in progress)
    await tab.lockstep.fetch('/api/v2/users/u1/presence');
    assert.equal(tab.lockstep.idleExpiresAt, null);
    await browser.clock.advance(600_000);
    assert.equal(tab.events.idleWarning, undefined);
    assert.equal(tab.lockstep.state, 'signed_in');
    token.idleTimeoutSeconds = 300; // the call ended: the idle clock runs again
    token.lastActivityAt = browser.clock.now();
    await tab.lockstep.fetch('/api/v2/users/u1/presence');
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 300_000);
    browser.server.routes.set('GET /demo/platform/feed', () => new Response('{}', { status: 200 }));
    await tab.lockstep.fetch('/demo/platform/feed');
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 300_000, 'outside /api/v2 a missing header is no news');
  });
});

describe('activity', () => {
  it("activity 'input': keyboard and pointer input call HEAD /api/v2/tokens/me, throttled", async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { activity: 'input', activityThrottleMs: 10_000 });
    assert.equal(tab.window.listenerCount('keydown'), 1);
    assert.equal(tab.window.listenerCount('scroll'), 1);
    await browser.clock.advance(10_000); // the channel POST was the last call that counted
    tab.window.dispatch('keydown');
    tab.window.dispatch('pointerdown');
    tab.window.dispatch('scroll');
    await browser.clock.advance(5_000);
    tab.window.dispatch('touchstart');
    assert.deepEqual(activityCalls(browser), [ACTIVITY]);
    await browser.clock.advance(5_000);
    tab.window.dispatch('click');
    await browser.clock.advance(0);
    assert.deepEqual(activityCalls(browser), [ACTIVITY, ACTIVITY]);
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 600_000);

    await tab.lockstep.signOut();
    assert.equal(tab.window.listenerCount('keydown'), 0, 'listeners removed at sign-out');
  });

  it("activity 'api' (default) does not listen to input", async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    assert.equal(tab.window.listenerCount('keydown'), 0);
  });

  it('an API call the server counted recently makes recordActivity a no-op; an excluded-path poll does not', async () => {
    const browser = fakeBrowser();
    browser.server.inactivityTimeoutExclusions.add('/api/v2/queues/q1/stats');
    const tab = await connectedTab(browser, 't1', { activityThrottleMs: 10_000 });
    await browser.clock.advance(10_000);
    await tab.lockstep.fetch('/api/v2/users');
    tab.lockstep.recordActivity();
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), [], 'the deadline the server told shows it just counted activity');

    await browser.clock.advance(10_000);
    await tab.lockstep.fetch('/api/v2/queues/q1/stats');
    tab.lockstep.recordActivity();
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), [ACTIVITY], 'the poll was not activity: the input is reported');
  });
});
