import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isLoginRequired, Lockstep, LockstepError } from '../src/index.ts';
import { CLIENT_ID, connectedTab, fakeBrowser, REDIRECT_URI, type Browser, type Tab } from './fakes/env.ts';
import { until } from './fakes/clock.ts';
import { ISSUER } from './fakes/server.ts';

const b64url = (buf: Buffer) => buf.toString('base64url');
const fakeIdToken = (claims: Record<string, unknown>) => `${b64url(Buffer.from('{"alg":"none"}'))}.${b64url(Buffer.from(JSON.stringify(claims)))}.sig`;

/** Sign in from `tab`, and answer the authorize URL the browser was sent to. */
async function signInFrom(tab: Tab, opts?: Parameters<Lockstep['signIn']>[0]): Promise<URL> {
  await tab.lockstep.signIn(opts);
  return new URL(tab.location.assigned.at(-1)!);
}

function tokenRoute(browser: Browser, respond: (form: URLSearchParams) => Record<string, unknown>) {
  browser.server.routes.set('POST /oauth/token', (r) => new Response(JSON.stringify(respond(new URLSearchParams(r.body!))), { status: 200, headers: { 'content-type': 'application/json' } }));
}

describe('sign-in redirect', () => {
  it('signIn saves returnTo (the current screen) and redirects to /oauth/authorize with code + PKCE S256, state and nonce', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const url = await signInFrom(tab);
    assert.equal(tab.lockstep.state, 'signing_in');
    assert.equal(`${url.origin}${url.pathname}`, `${ISSUER}/oauth/authorize`);
    const q = Object.fromEntries(url.searchParams);
    assert.equal(q.response_type, 'code');
    assert.equal(q.client_id, CLIENT_ID);
    assert.equal(q.redirect_uri, REDIRECT_URI);
    assert.equal(q.scope, 'openid profile email');
    assert.equal(q.code_challenge_method, 'S256');
    assert.equal(q.prompt, undefined);
    assert.match(q.state!, /^[A-Za-z0-9_-]{20,}$/);
    assert.match(q.nonce!, /^[A-Za-z0-9_-]{20,}$/);

    const pending = JSON.parse(tab.storage.getItem(`lockstep:pending:${q.state}`)!);
    assert.equal(pending.clientId, CLIENT_ID);
    assert.equal(pending.nonce, q.nonce);
    assert.equal(pending.returnTo, '/inbox?folder=open#m42');
    assert.match(pending.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.code_challenge, b64url(createHash('sha256').update(pending.codeVerifier).digest()));
    assert.ok(!tab.storage.keys().some((k) => k.includes('token')), 'nothing token-like stored yet');
  });

  it('handleRedirectCallback exchanges the code with the saved verifier, stores the token and answers returnTo', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const authorize = await signInFrom(tab, { returnTo: '/queue/7?tab=calls' });
    const state = authorize.searchParams.get('state')!;
    const pending = JSON.parse(tab.storage.getItem(`lockstep:pending:${state}`)!);
    let form: URLSearchParams | null = null;
    tokenRoute(browser, (f) => {
      form = f;
      browser.server.issue('fresh');
      return { access_token: 'fresh', token_type: 'Bearer', expires_in: 3600, scope: 'openid', id_token: fakeIdToken({ nonce: pending.nonce }) };
    });

    const returnTo = await Lockstep.handleRedirectCallback({
      issuer: ISSUER, redirectUri: REDIRECT_URI, fetch: browser.server.fetch, storage: tab.storage,
      location: { search: `?code=abc&state=${state}&iss=${encodeURIComponent(ISSUER)}` },
    });
    assert.equal(returnTo, '/queue/7?tab=calls');
    assert.deepEqual(Object.fromEntries(form!), {
      grant_type: 'authorization_code', code: 'abc', redirect_uri: REDIRECT_URI, code_verifier: pending.codeVerifier, client_id: CLIENT_ID,
    });
    assert.equal(browser.server.requests.at(-1)!.headers.get('authorization'), null, 'a public client: no client authentication');
    assert.equal(tab.storage.getItem(`lockstep:pending:${state}`), null, 'the pending request is used once');
    assert.equal(JSON.parse(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`)!).accessToken, 'fresh');

    // The returnTo page starts signed in.
    const page = browser.tab();
    page.storage.setItem(`lockstep:${CLIENT_ID}:token`, tab.storage.getItem(`lockstep:${CLIENT_ID}:token`)!);
    assert.equal(await page.lockstep.start(), 'signed_in');

    await assert.rejects(
      Lockstep.handleRedirectCallback({ issuer: ISSUER, redirectUri: REDIRECT_URI, fetch: browser.server.fetch, storage: tab.storage, location: { search: `?code=abc&state=${state}` } }),
      (err: LockstepError) => err instanceof LockstepError && err.code === 'unknown_state',
      'a replayed callback is refused',
    );
  });

  it('silent sign-in: login_required comes back as returnTo with a marker; the next signIn() drops it', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const authorize = await signInFrom(tab, { prompt: 'none' });
    assert.equal(authorize.searchParams.get('prompt'), 'none');
    const state = authorize.searchParams.get('state')!;
    const returnTo = await Lockstep.handleRedirectCallback({
      issuer: ISSUER, redirectUri: REDIRECT_URI, fetch: browser.server.fetch, storage: tab.storage, location: { search: `?error=login_required&state=${state}` },
    });
    assert.equal(returnTo, '/inbox?folder=open&lockstep_login_required=1#m42');
    assert.equal(browser.server.requests.length, 0);

    tab.location.go(returnTo);
    assert.equal(isLoginRequired(tab.location), true);
    const again = await signInFrom(tab);
    const pending = JSON.parse(tab.storage.getItem(`lockstep:pending:${again.searchParams.get('state')}`)!);
    assert.equal(pending.returnTo, '/inbox?folder=open#m42');
  });

  it('errors: unknown state, an error answer, a wrong nonce, a failed exchange, another issuer', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const callback = (search: string) => Lockstep.handleRedirectCallback({ issuer: ISSUER, redirectUri: REDIRECT_URI, fetch: browser.server.fetch, storage: tab.storage, location: { search } });
    const rejects = (p: Promise<unknown>, code: string, message?: RegExp) =>
      assert.rejects(p, (err: LockstepError) => err instanceof LockstepError && err.code === code && (!message || message.test(err.message)));

    await rejects(callback('?code=x&state=nope'), 'unknown_state', /does not match a sign-in started in this tab/);
    await rejects(callback('?code=x'), 'unknown_state');

    let state = (await signInFrom(tab)).searchParams.get('state')!;
    await rejects(callback(`?error=access_denied&error_description=The+user+said+no&state=${state}`), 'authorization_error', /access_denied \(The user said no\)/);

    state = (await signInFrom(tab)).searchParams.get('state')!;
    await rejects(callback(`?error=login_required&state=${state}`), 'authorization_error', /login_required/); // not a silent sign-in

    state = (await signInFrom(tab)).searchParams.get('state')!;
    tokenRoute(browser, () => ({ access_token: 'x', token_type: 'Bearer', expires_in: 60, id_token: fakeIdToken({ nonce: 'someone-else' }) }));
    await rejects(callback(`?code=c&state=${state}`), 'nonce_mismatch');

    state = (await signInFrom(tab)).searchParams.get('state')!;
    browser.server.routes.delete('POST /oauth/token');
    await rejects(callback(`?code=c&state=${state}`), 'token_exchange_failed', /invalid_grant/);

    state = (await signInFrom(tab)).searchParams.get('state')!;
    await rejects(callback(`?code=c&state=${state}&iss=https%3A%2F%2Fevil.test`), 'issuer_mismatch');
    assert.equal(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`), null);
  });

  it('after an idle timeout, signIn() returns to the screen the user was on', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser, 't1', { href: 'https://app.test/cases/12?view=full#notes' });
    tab.location.go('/cases/12?view=full#history'); // the app navigated
    browser.server.tokens.get('t1')!.problem = 'idle';
    await tab.lockstep.fetch('/api/v2/cases/12');
    await browser.clock.advance(0);
    assert.equal(tab.lockstep.state, 'ended');

    const authorize = await signInFrom(tab);
    const pending = JSON.parse(tab.storage.getItem(`lockstep:pending:${authorize.searchParams.get('state')}`)!);
    assert.equal(pending.returnTo, '/cases/12?view=full#history');
  });

  it('returnTo must stay on this origin', async () => {
    const browser = fakeBrowser();
    const tab = browser.tab();
    const state = (await signInFrom(tab, { returnTo: 'https://evil.test/phish' })).searchParams.get('state')!;
    assert.equal(JSON.parse(tab.storage.getItem(`lockstep:pending:${state}`)!).returnTo, '/');
    const same = (await signInFrom(tab, { returnTo: 'https://app.test/a?b=1' })).searchParams.get('state')!;
    assert.equal(JSON.parse(tab.storage.getItem(`lockstep:pending:${same}`)!).returnTo, '/a?b=1');
  });
});

describe('the redirect page of a popup or silent sign-in hands the answer over', () => {
  const recorder = () => ({ posted: [] as { message: unknown; targetOrigin: string }[], postMessage(message: unknown, targetOrigin: string) { this.posted.push({ message, targetOrigin }); } });

  it('popup (state p.…): posts code, state and iss to window.opener for its own origin only; the opener closes it (else it does, late)', async () => {
    const browser = fakeBrowser();
    const opener = recorder();
    let closed = false;
    const page = browser.tab();
    let returnTo: string | null = null;
    void Lockstep.handleRedirectCallback({
      issuer: ISSUER, redirectUri: REDIRECT_URI, fetch: browser.server.fetch, storage: page.storage, clock: browser.clock,
      location: { search: `?code=abc&state=p.xyz&iss=${encodeURIComponent(ISSUER)}`, origin: 'https://app.test' },
      window: { opener, parent: null, close: () => void (closed = true) },
    }).then((r) => (returnTo = r));
    await until(() => opener.posted.length > 0, 'the answer posted to the opener');
    assert.deepEqual(opener.posted, [{
      message: { type: 'lockstep:authorization-response', state: 'p.xyz', code: 'abc', iss: ISSUER }, targetOrigin: 'https://app.test',
    }]);
    await browser.clock.advance(2999);
    assert.equal(closed, false, 'not closed at once: a message from a closed window arrives without its source');
    await browser.clock.advance(1);
    assert.equal(closed, true, 'an opener that did not close it: the popup closes itself');
    assert.equal(returnTo, 'about:blank');
    assert.deepEqual(browser.server.requests, [], 'the code is not exchanged here: the opener holds the verifier');
  });

  it('silent (state s.…): posts the error to window.parent; the origin defaults to the redirect URI’s', async () => {
    const parent = recorder();
    const returnTo = await Lockstep.handleRedirectCallback({
      issuer: ISSUER, redirectUri: REDIRECT_URI, location: { search: '?error=login_required&state=s.abc' }, window: { opener: null, parent },
    });
    assert.equal(returnTo, 'about:blank');
    assert.deepEqual(parent.posted, [{ message: { type: 'lockstep:authorization-response', state: 's.abc', error: 'login_required' }, targetOrigin: 'https://app.test' }]);
  });

  it('a popup answer without an opener (opened by hand, or the opener is gone) is a clear error', async () => {
    await assert.rejects(
      Lockstep.handleRedirectCallback({ issuer: ISSUER, redirectUri: REDIRECT_URI, location: { search: '?code=a&state=p.x' }, window: { opener: null } }),
      (err: LockstepError) => err.code === 'opener_missing',
    );
  });
});
