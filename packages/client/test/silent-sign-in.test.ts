import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until } from './fakes/clock.ts';
import { fakeBrowser } from './fakes/env.ts';
import { postAnswer, signedOutTab, tokenEndpoint } from './fakes/sign-in.ts';

type Tab = Awaited<ReturnType<typeof signedOutTab>>;
/** The PKCE challenge is hashed by Web Crypto, outside the promise chain: wait until the iframe (or popup) is there. */
const framed = (tab: Tab, count = 1) => until(() => tab.document.frames.length >= count, 'the hidden iframe');
const popped = (tab: Tab) => until(() => (tab.window.popups.at(-1)?.popup.navigations.length ?? 0) > 0, 'the popup to go to /oauth/authorize');

describe('silent sign-in (prompt=none in a hidden iframe)', () => {
  it('succeeds when the iframe answers a code: exchanged here, signed in, the iframe removed', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const token = tokenEndpoint(browser);
    const signingIn = tab.lockstep.signIn({ display: 'silent' });
    await framed(tab);
    const frame = tab.document.lastFrame;
    const q = Object.fromEntries(new URL(frame.src).searchParams);
    assert.equal(q.prompt, 'none');
    assert.match(q.state!, /^s\./, 'the state says "silent" to the redirect page');
    assert.equal(frame.attributes.has('hidden'), true);
    token.nonce.value = q.nonce!;
    postAnswer(tab, frame.contentWindow, { code: 'c1', state: q.state });
    assert.equal(await signingIn, 'signed_in');
    assert.equal(frame.removed, true);
    assert.equal(tab.window.popups.length, 0);
  });

  it('login_required from the iframe answers at once', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const signingIn = tab.lockstep.signIn({ display: 'silent' });
    await framed(tab);
    const frame = tab.document.lastFrame;
    postAnswer(tab, frame.contentWindow, { error: 'login_required', state: new URL(frame.src).searchParams.get('state') });
    assert.equal(await signingIn, 'login_required');
    assert.equal(frame.removed, true);
    assert.equal(tab.lockstep.state, 'signed_out');
  });

  it('an iframe that never answers: login_required after 1000 ms, never later (injected clock)', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    let outcome: string | null = null;
    void tab.lockstep.signIn({ display: 'silent' }).then((o) => (outcome = o));
    await framed(tab);
    await browser.clock.advance(999);
    assert.equal(outcome, null);
    await browser.clock.advance(1);
    assert.equal(outcome, 'login_required');
    assert.equal(tab.document.lastFrame.removed, true);
    assert.equal(tab.window.listenerCount('message'), 0);
  });
});

describe('signIn() picks the flow', () => {
  it('framed by another origin: silent first; on login_required the popup; signed in', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser, { framedBy: 'https://crm.test' });
    const token = tokenEndpoint(browser);
    const signingIn = tab.lockstep.signIn();
    await framed(tab);
    assert.equal(tab.window.popups.length, 0, 'silent first');
    const frame = tab.document.lastFrame;
    postAnswer(tab, frame.contentWindow, { error: 'login_required', state: new URL(frame.src).searchParams.get('state') });
    await popped(tab);
    const popup = tab.window.lastPopup;
    const q = Object.fromEntries(new URL(popup.navigations[0]!).searchParams);
    assert.equal(q.prompt, undefined, 'the popup may show the sign-in page');
    token.nonce.value = q.nonce!;
    postAnswer(tab, popup, { code: 'c2', state: q.state });
    assert.equal(await signingIn, 'signed_in');
    assert.deepEqual(tab.location.assigned, [], 'this page never left');
  });

  it('framed, silent times out and the popup is blocked: signInBlocked (the app shows a Sign in button)', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser, { framedBy: 'https://crm.test' });
    tab.window.blockPopups = true;
    const signingIn = tab.lockstep.signIn();
    await framed(tab);
    await browser.clock.advance(1000);
    assert.equal(await signingIn, 'popup_blocked');
    assert.deepEqual(tab.events.signInBlocked, [{ reason: 'popup_blocked' }]);
  });

  it('not framed, or framed by its own origin: the redirect flow', async () => {
    const browser = fakeBrowser();
    for (const overrides of [{}, { framedBy: 'https://app.test' }]) {
      const tab = await signedOutTab(browser, overrides);
      assert.equal(await tab.lockstep.signIn(), 'redirecting');
      assert.equal(tab.location.assigned.length, 1);
      assert.equal(tab.document.frames.length + tab.window.popups.length, 0);
    }
  });

  it('framed where ancestorOrigins is missing: reading the top frame throws across origins, so it is framed', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser, { framedBy: 'https://crm.test' });
    tab.location.ancestorOrigins = undefined;
    void tab.lockstep.signIn();
    await framed(tab);
    assert.equal(tab.document.frames.length, 1);
    assert.deepEqual(tab.location.assigned, []);
  });
});
