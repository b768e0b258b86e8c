/**
 * Small building blocks of the OAuth flows, for tests that need a step the all-in-one
 * `signIn` helper hides (the raw authorization code, extra authorize parameters such as
 * `prompt=login`), plus one-line token calls.
 */
import * as oauth from 'oauth4webapi';
import { bearer, Browser, discover, formFields, insecure, type ClientSpec } from './browser.ts';

export interface AuthorizeStep {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  /** The raw authorization code from the redirect. */
  code: string;
  callback: URL;
  params: URLSearchParams;
  redirectUri: string;
  verifier: string;
  nonce: string;
  passwordPrompted: boolean;
}

/** GET /oauth/authorize (+ the login form when shown) up to the redirect that carries the code. */
export async function authorizeCode(
  issuerUrl: string, browser: Browser, spec: ClientSpec,
  credentials?: { username: string; password: string }, extra: Record<string, string> = {},
): Promise<AuthorizeStep> {
  const as = await discover(issuerUrl);
  const client: oauth.Client = { client_id: spec.clientId };
  const redirectUri = spec.redirectUri ?? 'http://127.0.0.1:9/callback';
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: spec.clientId, redirect_uri: redirectUri, response_type: 'code', scope: spec.scope ?? 'openid email profile',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra,
  }).toString();

  let response = await browser.fetch(url.toString());
  let passwordPrompted = false;
  if (response.status === 200) {
    passwordPrompted = true;
    const page = await response.text();
    if (!credentials) throw new Error('the server asked for a password but none was given');
    response = await browser.fetch(as.authorization_endpoint!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(page), ...credentials }),
    });
  }
  if (response.status !== 303) throw new Error(`authorize answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const callback = new URL(response.headers.get('location')!);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  return { as, client, code: params.get('code')!, callback, params, redirectUri, verifier, nonce, passwordPrompted };
}

/** The token request for an authorization step (public client unless a secret is given). */
export async function exchangeCode(step: AuthorizeStep, clientSecret?: string) {
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  const response = await oauth.authorizationCodeGrantRequest(step.as, step.client, auth, step.params, step.redirectUri, step.verifier, insecure);
  return oauth.processAuthorizationCodeResponse(step.as, step.client, response, { expectedNonce: step.nonce, requireIdToken: true });
}

/** Shows whether GET /oauth/authorize answers the login form (200) or a code redirect (303) for this browser. */
export async function authorizeStatus(issuerUrl: string, browser: Browser, clientId: string, extra: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const as = await discover(issuerUrl);
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: clientId, redirect_uri: 'http://127.0.0.1:9/callback', response_type: 'code', scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256',
    state: oauth.generateRandomState(), ...extra,
  }).toString();
  const response = await browser.fetch(url.toString());
  return { status: response.status, body: await response.text() };
}

/** A refresh-token grant for a public client; rejects with oauth.ResponseBodyError on an OAuth error. */
export async function refresh(issuerUrl: string, clientId: string, refreshToken: string, clientSecret?: string) {
  const as = await discover(issuerUrl);
  const client = { client_id: clientId };
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  return oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, insecure));
}

export async function clientCredentials(issuerUrl: string, clientId: string, clientSecret: string) {
  const as = await discover(issuerUrl);
  const client = { client_id: clientId };
  return oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), new URLSearchParams(), insecure));
}

/** HEAD /api/v2/tokens/me: 200 while the token is live, 401 once it is not. */
export async function tokenStatus(baseUrl: string, accessToken: string): Promise<number> {
  return (await fetch(baseUrl + '/api/v2/tokens/me', { method: 'HEAD', headers: bearer(accessToken) })).status;
}

/** A JSON API call with a bearer token. */
export async function api(baseUrl: string, accessToken: string, method: string, path: string, body?: unknown) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...bearer(accessToken), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as any) : null };
}

/** Whether a refresh attempt failed with the given OAuth error. */
export const isOAuthError = (code: string) => (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === code;
