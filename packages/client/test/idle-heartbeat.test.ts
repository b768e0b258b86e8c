import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedTab, fakeBrowser } from './fakes/env.ts';

const CHECK = 'HEAD /api/v2/tokens/me';
const INFO_CHECK = 'GET /api/v2/tokens/me?preserveIdleTTL=true';

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

  it('the heartbeat is HEAD /api/v2/tokens/me and counts as activity (the contract); its 401 "idle timeout" ends the session', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 300 });
    const tab = await connectedTab(browser, 't1', { heartbeatIntervalMs: 10_000, idleWarningMs: 0 });
    browser.lastSocket().serverClose(1006);
    const lastActivity = token.lastActivityAt;
    await browser.clock.advance(200_000);
    assert.ok(token.lastActivityAt > lastActivity, 'the HEAD heartbeat counts as activity on the server');
    assert.ok(browser.server.seen(CHECK).length >= 20);

    token.problem = 'idle'; // the server swept it (the channel event was missed)
    await browser.clock.advance(10_000);
    assert.equal(tab.lockstep.state, 'ended');
    assert.equal(tab.events.signedOut?.[0]?.reason, 'idle_timeout');
    assert.equal(tab.events.signedOut?.[0]?.message, 'Signed out after 5 minutes without activity');
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
    assert.deepEqual(browser.server.seen('HEAD'), ['HEAD /api/v2/tokens/me']);
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

  it('a server without idleTimeoutSeconds: the timeout is derived from a call that counts', async () => {
    const browser = fakeBrowser();
    const token = browser.server.issue('t1', { idleTimeoutSeconds: 600 });
    const original = browser.server.fetch;
    browser.server.routes.set('GET /api/v2/tokens/me', async (r) => {
      browser.server.routes.delete('GET /api/v2/tokens/me');
      const response = await original(`https://auth.test${r.path}?${r.query}`, { headers: r.headers });
      browser.server.requests.pop();
      const body = (await response.json()) as Record<string, unknown>;
      delete body.idleTimeoutSeconds;
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const tab = browser.tab();
    tab.signedInAs('t1');
    await browser.clock.advance(60_000);
    assert.equal(await tab.lockstep.start(), 'signed_in');
    assert.deepEqual(browser.server.seen('GET'), [INFO_CHECK, 'GET /api/v2/tokens/me']);
    assert.equal(token.lastActivityAt, browser.clock.now());
    await browser.clock.advance(0);
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 600_000);
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
    assert.deepEqual(browser.server.seen('HEAD'), ['HEAD /api/v2/tokens/me']);
    await browser.clock.advance(5_000);
    tab.window.dispatch('click');
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), ['HEAD /api/v2/tokens/me', 'HEAD /api/v2/tokens/me']);
    assert.equal(tab.lockstep.idleExpiresAt, browser.clock.now() + 600_000);

    await tab.lockstep.signOut();
    assert.equal(tab.window.listenerCount('keydown'), 0, 'listeners removed at sign-out');
  });

  it("activity 'api' (default) does not listen to input", async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    assert.equal(tab.window.listenerCount('keydown'), 0);
  });

  it('an API call made recently makes recordActivity a no-op (the server already counted it)', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { activityThrottleMs: 10_000 });
    await browser.clock.advance(10_000);
    await tab.lockstep.fetch('/api/v2/users');
    tab.lockstep.recordActivity();
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), []);
  });
});
