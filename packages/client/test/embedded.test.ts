import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedTab, fakeBrowser } from './fakes/env.ts';

const HOST = 'https://crm.test';

describe('embedded in an iframe', () => {
  it('activity posted by an allowed host origin counts; other origins and other messages do not', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { allowedHostOrigins: [HOST], activityThrottleMs: 1000 });
    await browser.clock.advance(1000);
    tab.window.dispatch('message', { origin: 'https://evil.test', data: { type: 'lockstep:activity' } });
    tab.window.dispatch('message', { origin: HOST, data: { type: 'something-else' } });
    tab.window.dispatch('message', { origin: HOST, data: 'lockstep:activity' });
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), []);
    tab.window.dispatch('message', { origin: HOST, data: { type: 'lockstep:activity' } });
    await browser.clock.advance(0);
    assert.deepEqual(browser.server.seen('HEAD'), ['HEAD /api/v2/tokens/me']);
  });

  it('tells the host page about the sign-out, addressed to each allowed origin', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { allowedHostOrigins: [HOST, 'https://crm2.test'] });
    browser.lastSocket().receive({ topicName: 'v2.system.token_revoked', eventBody: { reason: 'universal_logout', initiatingClientId: 'agent-desktop-2' } });
    await browser.clock.advance(0);
    const message = { type: 'lockstep:signed-out', reason: 'universal_logout', message: 'You signed out in another app' };
    assert.deepEqual(tab.window.parent.posted, [{ message, targetOrigin: HOST }, { message, targetOrigin: 'https://crm2.test' }]);
  });

  it('without allowedHostOrigins nothing listens to or posts to the parent', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    assert.equal(tab.window.listenerCount('message'), 0);
    await tab.lockstep.signOut();
    assert.deepEqual(tab.window.parent.posted, []);
  });
});
