import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { until } from './fakes/clock.ts';
import { CLIENT_ID, fakeBrowser, REDIRECT_URI } from './fakes/env.ts';
import { ISSUER } from './fakes/server.ts';
import { postAnswer, signedOutTab, tokenEndpoint } from './fakes/sign-in.ts';

type Tab = Awaited<ReturnType<typeof signedOutTab>>;
/** The PKCE challenge is hashed by Web Crypto, outside the promise chain: wait until the popup has its URL. */
const sentToAuthorize = (tab: Tab) => until(() => (tab.window.popups.at(-1)?.popup.navigations.length ?? 0) > 0, 'the popup to go to /oauth/authorize');

describe('popup sign-in', () => {
  it('opens the popup at once (inside the click), sends it to /oauth/authorize (PKCE S256, marked state), exchanges the code here', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const token = tokenEndpoint(browser);
    const signingIn = tab.lockstep.signIn({ display: 'popup' });
    assert.equal(tab.window.popups.length, 1, 'opened synchronously: the user gesture is still there');
    assert.equal(tab.window.popups[0]!.url, 'about:blank');
    assert.equal(tab.lockstep.state, 'signing_in');
    await sentToAuthorize(tab);

    const popup = tab.window.lastPopup;
    const authorize = new URL(popup.navigations[0]!);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${ISSUER}/oauth/authorize`);
    const q = Object.fromEntries(authorize.searchParams);
    assert.equal(q.redirect_uri, REDIRECT_URI);
    assert.equal(q.code_challenge_method, 'S256');
    assert.equal(q.prompt, undefined);
    assert.match(q.state!, /^p\.[A-Za-z0-9_-]{20,}$/, 'the state says "popup" to the redirect page');
    assert.deepEqual(tab.storage.keys().filter((k) => k.includes('pending')), [], 'the verifier stays in memory');

    token.nonce.value = q.nonce!;
    postAnswer(tab, popup, { code: 'abc', state: q.state });
    assert.equal(popup.closed, true, 'the opener closes the popup once it has the answer');
    assert.equal(await signingIn, 'signed_in');
    const form = Object.fromEntries(token.forms[0]!);
    assert.equal(form.code, 'abc');
    assert.equal(form.client_id, CLIENT_ID);
    assert.equal(form.redirect_uri, REDIRECT_URI);
    assert.equal(createHash('sha256').update(form.code_verifier!).digest('base64url'), q.code_challenge);
    assert.equal(tab.lockstep.state, 'signed_in');
    assert.equal(tab.events.signedIn?.length, 1);
    assert.equal(JSON.parse(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`)!).accessToken, 'fresh');
    await browser.clock.advance(0);
    assert.equal(browser.sockets.length, 1, 'the channel opens, as after a redirect sign-in');
  });

  it('ignores answers from another origin, another window, with another state, or of another shape', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const token = tokenEndpoint(browser);
    const signingIn = tab.lockstep.signIn({ display: 'popup' });
    await sentToAuthorize(tab);
    const popup = tab.window.lastPopup;
    const q = Object.fromEntries(new URL(popup.navigations[0]!).searchParams);
    token.nonce.value = q.nonce!;

    postAnswer(tab, popup, { code: 'evil', state: q.state }, 'https://crm.test');
    postAnswer(tab, { someOtherWindow: true }, { code: 'evil', state: q.state });
    postAnswer(tab, popup, { code: 'evil', state: 'p.not-the-one' });
    postAnswer(tab, null, { code: 'evil', state: q.state });
    tab.window.dispatch('message', { origin: 'https://app.test', source: popup, data: { type: 'something-else', code: 'evil', state: q.state } });
    await browser.clock.advance(0);
    assert.equal(token.forms.length, 0, 'no code was exchanged');
    assert.equal(tab.lockstep.state, 'signing_in');

    postAnswer(tab, popup, { code: 'good', state: q.state });
    assert.equal(await signingIn, 'signed_in');
    assert.deepEqual(token.forms.map((f) => f.get('code')), ['good']);
  });

  it('a blocked popup (window.open → null) emits signInBlocked and resolves popup_blocked', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    tab.window.blockPopups = true;
    assert.equal(await tab.lockstep.signIn({ display: 'popup' }), 'popup_blocked');
    assert.deepEqual(tab.events.signInBlocked, [{ reason: 'popup_blocked' }]);
    assert.equal(tab.lockstep.state, 'signed_out');
    assert.deepEqual(browser.server.requests, []);
  });

  it('a popup the user closed resolves cancelled (polled), and a late answer is ignored', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const token = tokenEndpoint(browser);
    const signingIn = tab.lockstep.signIn({ display: 'popup' });
    await sentToAuthorize(tab);
    const popup = tab.window.lastPopup;
    const state = new URL(popup.navigations[0]!).searchParams.get('state');
    popup.close();
    await browser.clock.advance(1000);
    assert.equal(await signingIn, 'cancelled');
    assert.equal(tab.lockstep.state, 'signed_out');
    assert.equal(tab.window.listenerCount('message'), 0, 'stopped listening');
    postAnswer(tab, popup, { code: 'late', state });
    await browser.clock.advance(0);
    assert.deepEqual(token.forms, []);
  });

  it('an error answer or another issuer rejects with a LockstepError; the state goes back to signed_out', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    for (const [answer, code] of [[{ error: 'access_denied' }, 'authorization_error'], [{ code: 'x', iss: 'https://evil.test' }, 'issuer_mismatch']] as const) {
      const signingIn = tab.lockstep.signIn({ display: 'popup' });
      await sentToAuthorize(tab);
      const popup = tab.window.lastPopup;
      postAnswer(tab, popup, { ...answer, state: new URL(popup.navigations[0]!).searchParams.get('state') });
      await assert.rejects(signingIn, (err: { code?: string }) => err.code === code);
      assert.equal(tab.lockstep.state, 'signed_out');
    }
  });

  it('a second signIn while the popup is open joins the first (no second popup)', async () => {
    const browser = fakeBrowser();
    const tab = await signedOutTab(browser);
    const first = tab.lockstep.signIn({ display: 'popup' });
    const second = tab.lockstep.signIn({ display: 'popup' });
    assert.equal(first, second);
    assert.equal(tab.window.popups.length, 1);
    await sentToAuthorize(tab);
    tab.window.lastPopup.close();
    await browser.clock.advance(1000);
    assert.equal(await first, 'cancelled');
  });
});
