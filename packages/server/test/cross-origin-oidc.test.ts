/**
 * Issue 8: Lockstep used by relying parties on other origins, through the libraries integrators use —
 * oidc-client-ts in Chromium on `http://localhost:<port>` (Lockstep is on `http://127.0.0.1:<port>`,
 * another site) and openid-client in Node — plus the CORS, auth_time / max_age, UserInfo,
 * idle-header and 401-code facts of the contract (/work/issue8-contract.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser as Chromium, Page } from 'playwright-core';
import type { Clock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { authorizeCode, automationToken, bearer, Browser, exchangeCode, formFields, type AuthorizeStep } from './helpers/browser.ts';
import { chromiumOrSkip, launchChromium, screenshot } from './helpers/chromium.ts';
import { appState, oidcClientBundle, startOidcApp, type AppSettings } from './helpers/cross-origin-app.ts';
import { html, startOriginServer, type OriginServer } from './helpers/origin-server.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const AGENT_NAME = 'Alex Agent';

/** Real time plus an offset the test moves forward: the server sees time pass without the test sleeping. */
class ShiftedClock implements Clock {
  #offset = 0;
  now(): number {
    return Date.now() + this.#offset;
  }
  advance(ms: number): void {
    this.#offset += ms;
  }
  get skewSeconds(): number {
    return Math.round(this.#offset / 1000);
  }
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const jwtClaims = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

interface ClientSpec {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  allowedOrigins?: string[];
}

/** A server with a shifted clock, an admin token source and a way to register public SPA clients. */
async function setup() {
  const clock = new ShiftedClock();
  const server = await startTestServer({ clock });
  const call = api(server.url);
  const admin = () => automationToken(server.url, DEMO_SECRET);
  const body = (spec: ClientSpec) => ({
    name: spec.name, type: 'public', redirectUris: spec.redirectUris, grantTypes: ['authorization_code', 'refresh_token'],
    postLogoutRedirectUris: spec.postLogoutRedirectUris ?? [], ...(spec.allowedOrigins ? { allowedOrigins: spec.allowedOrigins } : {}),
  });
  const createClient = async (spec: ClientSpec): Promise<string> => {
    const created = await call('POST', '/api/v2/oauth/clients', await admin(), body(spec));
    assert.equal(created.status, 201, `creating client ${spec.name}: ${JSON.stringify(created.body)}`);
    if (spec.allowedOrigins) assert.deepEqual(created.body.allowedOrigins, spec.allowedOrigins, 'the admin API returns allowedOrigins');
    return created.body.id;
  };
  const updateClient = async (id: string, spec: ClientSpec) => {
    const updated = await call('PUT', `/api/v2/oauth/clients/${id}`, await admin(), body(spec));
    assert.equal(updated.status, 200, `updating client ${spec.name}: ${JSON.stringify(updated.body)}`);
    if (spec.allowedOrigins) assert.deepEqual(updated.body.allowedOrigins, spec.allowedOrigins);
  };
  const setIdle = async (on: boolean, timeoutSeconds = 600) => {
    const put = await call('PUT', '/api/v2/tokens/timeout', await admin(), { enableIdleTokenTimeout: on, idleTokenTimeoutSeconds: timeoutSeconds });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  };
  return { clock, server, call, admin, createClient, updateClient, setIdle };
}

/** A raw token request (what a SPA sends), optionally with an Origin header. */
async function redeem(server: TestServer, clientId: string, step: AuthorizeStep, origin?: string) {
  const response = await fetch(server.url + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code: step.code, redirect_uri: step.redirectUri, code_verifier: step.verifier }),
  });
  const text = await response.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the text is answered */ }
  return { status: response.status, body: json ?? text, headers: response.headers };
}

/** One server for the whole file (each start bundles the browser assets: seconds on a busy machine); suites register their own clients. */
let s: Awaited<ReturnType<typeof setup>>;
before(async () => {
  s = await setup();
});
after(() => s?.server.stop());

describe('openid-client (Node): discovery, code flow with maxAge, UserInfo, auth_time across SSO and refresh, max_age', () => {
  let clientId: string;
  const redirectUri = 'http://localhost:5999/callback';

  before(async () => {
    clientId = await s.createClient({ name: 'openid-client RP', redirectUris: [redirectUri] });
  });

  /** openid-client's Configuration, discovered now (its clock skew follows the server's shifted clock). */
  const configure = () => client.discovery(new URL(s.server.url), clientId, { [client.clockSkew]: s.clock.skewSeconds } as Partial<client.ClientMetadata>,
    client.None(), { execute: [client.allowInsecureRequests] });

  /**
   * The code flow as an openid-client RP does it; the user agent is the cookie-keeping Browser of
   * helpers/browser.ts (it posts the login form when one is shown). `maxAge` goes both into the
   * request (max_age) and into openid-client's check of the ID token.
   */
  async function codeFlow(browser: Browser, opts: { maxAge?: number; extra?: Record<string, string>; password?: boolean } = {}) {
    const config = await configure();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid email profile', state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      ...(opts.maxAge != null ? { max_age: String(opts.maxAge) } : {}), ...opts.extra,
    });
    let response = await browser.fetch(url.href);
    let passwordPrompted = false;
    const started = s.clock.now();
    if (response.status === 200) {
      const page = await response.text();
      assert.match(page, /name="password"/, 'a 200 from /oauth/authorize is the login form');
      passwordPrompted = true;
      if (opts.password === false) throw new Error('the login form was shown where single sign-on was expected');
      response = await browser.fetch(config.serverMetadata().authorization_endpoint!, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...formFields(page), ...agent }),
      });
    }
    assert.equal(response.status, 303, `authorize answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    const callback = new URL(response.headers.get('location')!);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, ...(opts.maxAge != null ? { maxAge: opts.maxAge } : {}),
    });
    return { config, tokens, claims: tokens.claims()!, passwordPrompted, span: { from: seconds(started), to: Math.ceil(s.clock.now() / 1000) } };
  }

  test('discovery advertises UserInfo and the OIDC facts; fetchUserInfo answers sub, email, name; GET and POST both work', async () => {
    const config = await configure();
    const meta = config.serverMetadata();
    assert.equal(meta.userinfo_endpoint, `${s.server.url}/oauth/userinfo`);
    assert.equal(meta.request_uri_parameter_supported, false);
    assert.ok(Array.isArray(meta.claims_supported) && meta.claims_supported.includes('auth_time'), 'claims_supported lists auth_time');
    assert.deepEqual([...(meta.prompt_values_supported as string[] ?? [])].sort(), ['login', 'none']);

    const flow = await codeFlow(new Browser(), { maxAge: 300 });
    assert.equal(flow.passwordPrompted, true);
    const info = await client.fetchUserInfo(flow.config, flow.tokens.access_token, flow.claims.sub);
    assert.equal(info.sub, flow.claims.sub);
    assert.equal(info.email, 'agent@demo.test');
    assert.equal(info.name, AGENT_NAME);
    assert.equal(info.email_verified, true);
    assert.equal(info.org_id, 'demo');

    const post = await fetch(meta.userinfo_endpoint!, { method: 'POST', headers: bearer(flow.tokens.access_token) });
    assert.equal(post.status, 200);
    assert.deepEqual(await post.json(), { ...info });

    const anonymous = await fetch(meta.userinfo_endpoint!);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
    const bogus = await fetch(meta.userinfo_endpoint!, { headers: bearer('not-a-token-of-this-server') });
    assert.equal(bogus.status, 401);
    assert.match(bogus.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  });

  test('auth_time is the password moment: the same for a second code from the sign-in session later (SSO) and after refreshes', async () => {
    const browser = new Browser();
    const first = await codeFlow(browser, { maxAge: 600 });
    assert.equal(first.passwordPrompted, true);
    const authTime = first.claims.auth_time!;
    assert.ok(authTime >= first.span.from && authTime <= first.span.to, `auth_time ${authTime} is the sign-in moment [${first.span.from}, ${first.span.to}]`);

    s.clock.advance(20_000);
    const sso = await codeFlow(browser, { maxAge: 600, password: false });
    assert.equal(sso.passwordPrompted, false, 'single sign-on: no password');
    assert.ok(sso.claims.iat >= authTime + 20, 'the second ID token is issued 20 s later');
    assert.equal(sso.claims.auth_time, authTime, 'auth_time after SSO is the sign-in time, not the second code\'s time');

    s.clock.advance(20_000);
    const config = await configure();
    const refreshed = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
    const refreshedClaims = refreshed.claims()!;
    assert.ok(refreshedClaims.iat >= authTime + 40);
    assert.equal(refreshedClaims.auth_time, authTime, 'auth_time after refresh is the sign-in time');
    assert.equal(refreshedClaims.sub, first.claims.sub);

    s.clock.advance(20_000);
    const again = await client.refreshTokenGrant(await configure(), refreshed.refresh_token!);
    assert.equal(again.claims()!.auth_time, authTime, 'and after a second refresh');
    assert.equal((await client.fetchUserInfo(config, again.access_token, first.claims.sub)).email, 'agent@demo.test');

    const ssoRefreshed = await client.refreshTokenGrant(await configure(), sso.tokens.refresh_token!);
    assert.equal(ssoRefreshed.claims()!.auth_time, authTime, 'the SSO grant refreshes with the same auth_time');
  });

  test('max_age=1 two seconds after sign-in shows the password form again; prompt=none then says login_required; prompt=login forces it too', async () => {
    const browser = new Browser();
    const first = await codeFlow(browser);
    assert.equal(first.passwordPrompted, true);

    s.clock.advance(2_000);
    const sso = await codeFlow(browser, { maxAge: 3600, password: false });
    assert.equal(sso.passwordPrompted, false, 'a generous max_age is satisfied by the session (control)');
    assert.equal(sso.claims.auth_time, first.claims.auth_time);

    const reauth = await codeFlow(browser, { maxAge: 1 });
    assert.equal(reauth.passwordPrompted, true, 'max_age=1, 2 s after the sign-in: the password form again');
    assert.ok(reauth.claims.auth_time! > first.claims.auth_time!, 'the new password moment is the new auth_time');
    assert.ok(reauth.claims.auth_time! >= reauth.span.from, 'auth_time is the moment of the new password');

    s.clock.advance(2_000);
    const none = await browser.fetch(client.buildAuthorizationUrl(await configure(), {
      redirect_uri: redirectUri, scope: 'openid', state: 'st-none', max_age: '1', prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).href);
    assert.equal(none.status, 303);
    const noneRedirect = new URL(none.headers.get('location')!);
    assert.equal(noneRedirect.searchParams.get('error'), 'login_required', 'max_age=1 with prompt=none, 2 s later: login_required');
    assert.equal(noneRedirect.searchParams.get('state'), 'st-none');
    assert.equal(noneRedirect.searchParams.get('code'), null);

    const login = await codeFlow(browser, { extra: { prompt: 'login' } });
    assert.equal(login.passwordPrompted, true, 'prompt=login: the password form even with a fresh session');
  });
});

describe('CORS and the token endpoint from other origins (Node fetch with an Origin header)', () => {
  let clientId: string;
  const app = 'http://localhost:5101';
  const partner = 'https://partner.example';
  const spec = () => ({ name: 'SPA on localhost', redirectUris: [`${app}/callback`], postLogoutRedirectUris: [`${app}/signed-out`] });

  before(async () => {
    clientId = await s.createClient(spec());
  });

  const code = () => authorizeCode(s.server.url, new Browser(), { clientId, redirectUri: `${app}/callback` }, agent);
  const preflight = (path: string, origin: string, method = 'POST', headers = 'content-type') => fetch(s.server.url + path, {
    method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

  test('a preflight for /oauth/token from an allowed origin: 204, the origin, a max-age, the headers and methods; no credentials mode', async () => {
    const res = await preflight('/oauth/token', app, 'POST', 'content-type, authorization');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), app);
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    const allowHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'lockstep-activity']) assert.ok(allowHeaders.includes(h), `allowed headers include ${h}: ${allowHeaders}`);
    const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase();
    for (const m of ['GET', 'POST', 'DELETE']) assert.ok(methods.includes(m), `allowed methods include ${m}: ${methods}`);

    const corsRoutes = [['/oauth/revoke', 'POST'], ['/oauth/userinfo', 'GET'], ['/oauth/introspect', 'POST'], ['/api/v2/tokens/me', 'GET'],
      ['/api/v2/notifications/channels', 'POST'], ['/api/v2/users/some-user/presences/purecloud', 'PATCH']] as const;
    for (const [path, method] of corsRoutes) {
      const other = await preflight(path, app, method, 'authorization, content-type, lockstep-activity');
      assert.equal(other.status, 204, `preflight ${path}`);
      assert.equal(other.headers.get('access-control-allow-origin'), app, `preflight ${path}`);
    }
    const answer = await fetch(s.server.url + '/api/v2/tokens/me', { headers: { origin: app } });
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('access-control-allow-origin'), app, 'a 401 answers CORS too, so the app can read why');
    const exposed = (answer.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    assert.ok(exposed.includes('lockstep-idle-expires') && exposed.includes('www-authenticate'), `exposed headers: ${exposed}`);

    const discovery = await fetch(s.server.url + '/.well-known/openid-configuration', { headers: { origin: app } });
    assert.equal(discovery.headers.get('access-control-allow-origin'), app, 'discovery answers CORS');
    const jwks = await fetch(s.server.url + '/oauth/jwks', { headers: { origin: app } });
    assert.equal(jwks.headers.get('access-control-allow-origin'), app, 'JWKS answers CORS');
  });

  test('an origin nobody registered gets no CORS answer; /oauth/authorize, /oauth/logout and /admin never answer CORS', async () => {
    const stranger = await preflight('/oauth/token', 'http://evil.example');
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);

    for (const path of ['/oauth/authorize', '/oauth/logout', '/admin']) {
      const get = await fetch(s.server.url + path, { headers: { origin: app }, redirect: 'manual' });
      assert.equal(get.headers.get('access-control-allow-origin'), null, `GET ${path} from an allowed origin: no Access-Control-Allow-Origin`);
      const options = await preflight(path, app, 'GET');
      assert.equal(options.headers.get('access-control-allow-origin'), null, `OPTIONS ${path}: no Access-Control-Allow-Origin`);
    }
  });

  test('a token request from a not-allowed origin is refused (400 invalid_request) and the code stays unused', async () => {
    const step = await code();
    const refused = await redeem(s.server, clientId, step, 'http://evil.example');
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_request');
    assert.match(refused.body.error_description, /not allowed/i);
    assert.match(refused.body.error_description, /evil\.example/);

    const ok = await redeem(s.server, clientId, step); // Node fetch: no Origin header
    assert.equal(ok.status, 200, `the same code then succeeds without that Origin: ${JSON.stringify(ok.body)}`);
    assert.equal((await fetch(s.server.url + '/api/v2/tokens/me', { headers: bearer(ok.body.access_token) })).status, 200);
  });

  test('an origin allowed for another client (allowedOrigins) is refused for this client; the code then works from this client\'s origin', async () => {
    await s.createClient({ name: 'partner app', redirectUris: ['https://partner.example.net/cb'], allowedOrigins: [partner] });
    const partnerPreflight = await preflight('/oauth/token', partner);
    assert.equal(partnerPreflight.status, 204);
    assert.equal(partnerPreflight.headers.get('access-control-allow-origin'), partner, 'allowedOrigins make an origin a CORS origin');

    const step = await code();
    const refused = await redeem(s.server, clientId, step, partner);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_request');
    assert.match(refused.body.error_description, /not allowed/i);

    const ok = await redeem(s.server, clientId, step, app);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.headers.get('access-control-allow-origin'), app);
    assert.ok(ok.body.access_token && ok.body.id_token && ok.body.refresh_token);

    // allowedOrigins of this client: the partner origin may now redeem its codes and refresh.
    await s.updateClient(clientId, { ...spec(), allowedOrigins: [partner] });
    const step2 = await code();
    const fromPartner = await redeem(s.server, clientId, step2, partner);
    assert.equal(fromPartner.status, 200, JSON.stringify(fromPartner.body));
    assert.equal(fromPartner.headers.get('access-control-allow-origin'), partner);
  });

  test('a refresh from a not-allowed origin is refused and the refresh token stays usable', async () => {
    const tokens = await exchangeCode(await code());
    const refreshWith = (origin?: string) => fetch(s.server.url + '/oauth/token', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token! }),
    });
    const refused = await refreshWith('http://evil.example');
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_request');
    const ok = await refreshWith(app);
    assert.equal(ok.status, 200, 'not rotated, not reuse-revoked by the refused request');
  });

  test('401 codes: token.revoked with reason logout after DELETE /api/v2/tokens/me, token.unknown, token.missing; each in WWW-Authenticate', async () => {
    const tokens = await exchangeCode(await code());
    const me = (init: RequestInit = {}) => fetch(s.server.url + '/api/v2/tokens/me', init);
    assert.equal((await me({ headers: bearer(tokens.access_token) })).status, 200);
    assert.equal((await me({ method: 'DELETE', headers: bearer(tokens.access_token) })).status, 204);

    const revoked = await me({ headers: bearer(tokens.access_token) });
    assert.equal(revoked.status, 401);
    const revokedBody = await revoked.json();
    assert.equal(revokedBody.status, 401);
    assert.equal(revokedBody.code, 'token.revoked');
    assert.equal(revokedBody.reason, 'logout');
    assert.equal(typeof revokedBody.message, 'string');
    const revokedHeader = revoked.headers.get('www-authenticate') ?? '';
    assert.match(revokedHeader, /^Bearer /);
    assert.match(revokedHeader, /error="invalid_token"/);
    assert.match(revokedHeader, /code="token\.revoked"/);
    assert.match(revokedHeader, /reason="logout"/);
    const revokedHead = await me({ method: 'HEAD', headers: bearer(tokens.access_token) });
    assert.equal(revokedHead.status, 401);
    assert.match(revokedHead.headers.get('www-authenticate') ?? '', /code="token\.revoked".*reason="logout"/, 'HEAD carries the code in the header');

    const unknown = await me({ headers: bearer('lst_at_this-token-was-never-issued') });
    assert.equal(unknown.status, 401);
    assert.equal((await unknown.json()).code, 'token.unknown');
    assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token".*code="token\.unknown"/);

    const missing = await me();
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).code, 'token.missing');
    const missingHeader = missing.headers.get('www-authenticate') ?? '';
    assert.match(missingHeader, /^Bearer realm="lockstep"/);
    assert.match(missingHeader, /code="token\.missing"/);

    const userinfo = await fetch(s.server.url + '/oauth/userinfo', { headers: bearer(tokens.access_token) });
    assert.equal(userinfo.status, 401, 'UserInfo refuses the revoked token');
    assert.match(userinfo.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});

const { skip } = chromiumOrSkip();

describe('oidc-client-ts in Chromium on another site (app on localhost, Lockstep on 127.0.0.1)', { skip }, () => {
  let chromium: Chromium;
  let bundle: string;
  let settings: AppSettings | null = null;
  let appServer: OriginServer;
  let strangerServer: OriginServer;
  let partnerServer: OriginServer;
  let clientId: string;
  let app: string;
  const spec = () => ({ name: 'oidc-client-ts SPA', redirectUris: [`${app}/callback`], postLogoutRedirectUris: [`${app}/signed-out`] });

  before(async () => {
    [bundle, chromium] = await Promise.all([oidcClientBundle(), launchChromium()]);
    appServer = await startOidcApp({ hostName: 'localhost', bundle, settings: () => settings });
    app = appServer.origin;
    const blank = { '/blank': html('<!doctype html><meta charset="utf-8"><title>other origin</title><body>another origin</body>') };
    strangerServer = await startOriginServer({ hostName: 'localhost', pages: blank });
    partnerServer = await startOriginServer({ hostName: 'localhost', pages: blank });
    clientId = await s.createClient(spec());
    settings = {
      authority: s.server.url, client_id: clientId, redirect_uri: `${app}/callback`, post_logout_redirect_uri: `${app}/signed-out`,
      scope: 'openid email profile', loadUserInfo: true,
    };
  });
  after(async () => {
    await chromium?.close();
    await Promise.all([appServer?.close(), strangerServer?.close(), partnerServer?.close()]);
  });

  /** signinRedirect on the app page, the password typed into Lockstep's login form, signinRedirectCallback on /callback. */
  async function signInWithRedirect(page: Page, shot?: string) {
    await page.goto(app + '/');
    await page.evaluate(() => { void (window as any).mgr.signinRedirect(); }); // it navigates away: not awaited in the page
    await page.locator('input[name=username]').waitFor({ timeout: 20_000 });
    assert.equal(new URL(page.url()).origin, s.server.url, 'the login form is Lockstep\'s own page');
    if (shot) await screenshot(page, `${shot}-login-form`);
    await page.locator('input[name=username]').fill(agent.username);
    await page.locator('input[name=password]').fill(agent.password);
    const started = s.clock.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    const outcome = await appState(page);
    assert.equal(outcome.state, 'signed-in', `signinRedirectCallback: ${outcome.failure}`);
    assert.equal(new URL(page.url()).origin, app);
    if (shot) await screenshot(page, `${shot}-signed-in`);
    const user = await page.evaluate(() => (window as any).result);
    return { user, span: { from: seconds(started), to: Math.ceil(s.clock.now() / 1000) } };
  }

  test('signinRedirect → signinRedirectCallback → signinSilent (refresh token, later) keeps auth_time → signoutRedirect', async () => {
    const context = await chromium.newContext();
    const page = await context.newPage();
    const { user, span } = await signInWithRedirect(page, 'cross-origin-1');
    const idClaims = jwtClaims(user.id_token);
    assert.equal(user.profile.email, 'agent@demo.test', 'profile (ID token + UserInfo loaded through CORS)');
    assert.equal(user.profile.name, AGENT_NAME);
    assert.ok(user.refresh_token, 'a refresh token (the idle timeout is off)');
    const authTime = idClaims.auth_time;
    assert.ok(authTime >= span.from && authTime <= span.to, `auth_time ${authTime} is the sign-in moment [${span.from}, ${span.to}]`);

    s.clock.advance(30_000); // the refresh happens 30 s (server time) after the password
    const requests: string[] = [];
    const log = (r: import('playwright-core').Request) => requests.push(`${r.method()} ${r.url().split('?')[0]} ${r.postData() ?? ''}`);
    page.on('request', log);
    const refreshed = await page.evaluate(() => (window as any).run('refreshed', (window as any).mgr.signinSilent()))
      .catch((err: Error) => assert.fail(`signinSilent: ${err.message}`));
    page.off('request', log);
    assert.ok(requests.some((r) => r.startsWith(`POST ${s.server.url}/oauth/token `) && r.includes('grant_type=refresh_token')),
      `signinSilent used the refresh token grant: ${requests.join(' | ')}`);
    assert.ok(!requests.some((r) => r.includes('/oauth/authorize')), 'no authorize request (no iframe)');
    const refreshedClaims = jwtClaims(refreshed.id_token);
    assert.notEqual(refreshed.access_token, user.access_token, 'a new access token');
    assert.notEqual(refreshed.refresh_token, user.refresh_token, 'the refresh token rotated');
    assert.ok(refreshedClaims.iat >= authTime + 30, 'the new ID token is issued 30 s later');
    assert.equal(refreshedClaims.auth_time, authTime, 'oidc-client-ts accepted the refreshed ID token: auth_time is the original sign-in time');
    const stored = await page.evaluate(async () => (await (window as any).mgr.getUser())?.access_token);
    assert.equal(stored, refreshed.access_token, 'oidc-client-ts stored the refreshed user');
    await screenshot(page, 'cross-origin-1-refreshed');

    const me = await page.evaluate(([url, token]) => (window as any).call(url, token), [s.server.url + '/api/v2/tokens/me', refreshed.access_token] as const);
    assert.equal(me.status, 200, 'the token API answers the app\'s origin (CORS, bearer, preflighted)');
    assert.equal(me.body.user.email, 'agent@demo.test');
    assert.equal(me.idle, null, 'no Lockstep-Idle-Expires while no idle timeout applies');

    await page.evaluate(() => { void (window as any).mgr.signoutRedirect(); });
    const out = await appState(page);
    assert.equal(out.state, 'signed-out', `signoutRedirectCallback: ${out.failure}`);
    assert.equal(new URL(page.url()).origin + new URL(page.url()).pathname, `${app}/signed-out`, 'back on the registered post-logout redirect URI');
    await screenshot(page, 'cross-origin-1-signed-out');
    assert.equal(await page.evaluate(async () => (await (window as any).mgr.getUser()) ?? null), null, 'oidc-client-ts dropped the user');
    const after = await fetch(s.server.url + '/api/v2/tokens/me', { headers: bearer(refreshed.access_token) });
    assert.equal(after.status, 401, 'the end-session endpoint revoked the refreshed token');

    await page.goto(app + '/');
    await page.evaluate(() => { void (window as any).mgr.signinRedirect(); }); // it navigates away: not awaited in the page
    await page.locator('input[name=password]').waitFor({ timeout: 20_000 });
    await context.close();
  });

  test('a token request from a page on a not-allowed origin is refused and the code stays unused; the app\'s origin then redeems it', async () => {
    const step = await authorizeCode(s.server.url, new Browser(), { clientId, redirectUri: `${app}/callback` }, agent);
    const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code: step.code, redirect_uri: step.redirectUri, code_verifier: step.verifier }).toString();
    const context = await chromium.newContext();
    const tokenRequest = async (origin: string) => {
      const page = await context.newPage();
      await page.goto(origin + '/blank');
      const answer = await page.evaluate(async ([url, form]) => {
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
          return { status: res.status, body: await res.json() };
        } catch (err) {
          return { failed: String(err) };
        }
      }, [s.server.url + '/oauth/token', body] as const);
      await page.close();
      return answer as { status?: number; body?: any; failed?: string };
    };

    // A stranger's page: the POST is a simple request (no preflight), so it reaches the server; the page reads nothing.
    const stranger = await tokenRequest(strangerServer.origin);
    assert.ok(stranger.failed, `the browser withholds the answer from ${strangerServer.origin}: ${JSON.stringify(stranger)}`);

    // A page on an origin allowed for another client reads the refusal (CORS applies), and the code is still not consumed.
    await s.createClient({ name: 'partner SPA', redirectUris: ['https://partner-spa.example/cb'], allowedOrigins: [partnerServer.origin] });
    const partner = await tokenRequest(partnerServer.origin);
    assert.equal(partner.status, 400, JSON.stringify(partner));
    assert.equal(partner.body.error, 'invalid_request');
    assert.match(partner.body.error_description, /not allowed/i);

    const fromApp = await tokenRequest(app);
    assert.equal(fromApp.status, 200, `the same code from the app's origin: ${JSON.stringify(fromApp)}`);
    assert.ok(fromApp.body.access_token && fromApp.body.id_token);
    assert.equal((await fetch(s.server.url + '/api/v2/tokens/me', { headers: bearer(fromApp.body.access_token) })).status, 200);
    await context.close();
  });

  test('idle timeout on: Lockstep-Idle-Expires and WWW-Authenticate are readable from JavaScript on the app\'s origin', async () => {
    await s.setIdle(true, 600);
    try {
      const context = await chromium.newContext();
      const page = await context.newPage();
      const { user } = await signInWithRedirect(page);
      assert.equal(user.refresh_token, null, 'no refresh token while the idle timeout is on');
      type Answer = { status: number; idle: string | null; www: string | null; body: any };
      const call = (path: string, token = user.access_token as string) =>
        page.evaluate(([url, t]) => (window as any).call(url, t), [s.server.url + path, token] as const) as Promise<Answer>;

      const active = await call('/api/v2/tokens/me');
      assert.equal(active.status, 200);
      assert.ok(active.idle, 'Lockstep-Idle-Expires is exposed to the other origin');
      const deadline = Date.parse(active.idle!);
      assert.ok(Math.abs(deadline - (s.clock.now() + 600_000)) < 30_000, `the deadline ${active.idle} is about 600 s from now`);
      assert.equal(deadline, Date.parse(active.body.dateTokenIdles), 'the header says what /tokens/me says');

      s.clock.advance(10_000);
      const preserved = await call('/api/v2/tokens/me?preserveIdleTTL=true');
      assert.equal(preserved.idle, active.idle, 'preserveIdleTTL=true 10 s later: the header is still sent and the deadline did not move');
      const userinfo = await call('/oauth/userinfo');
      assert.equal(userinfo.status, 200);
      assert.ok(userinfo.idle, 'UserInfo carries the header too');
      const again = await call('/api/v2/tokens/me');
      assert.ok(Date.parse(again.idle!) >= deadline + 10_000, `activity 10 s later moves the deadline: ${active.idle} → ${again.idle}`);

      const unknown = await call('/api/v2/tokens/me', 'lst_at_never-issued');
      assert.equal(unknown.status, 401);
      assert.match(unknown.www ?? '', /code="token\.unknown"/, 'WWW-Authenticate is exposed to the other origin');
      assert.equal(unknown.body.code, 'token.unknown');
      await screenshot(page, 'cross-origin-3-idle-on-signed-in');
      await context.close();
    } finally {
      await s.setIdle(false);
    }
  });
});
