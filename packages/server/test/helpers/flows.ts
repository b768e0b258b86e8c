/**
 * One-line calls around the OAuth flows: what GET /oauth/authorize answers a browser, refresh
 * grants, token liveness, JSON API calls. The steps `signIn` is made of (`authorizeCode` for
 * the raw authorization code or extra authorize parameters such as `prompt=login`, then
 * `exchangeCode`) and `clientCredentials` are in browser.ts.
 */
import * as oauth from 'oauth4webapi';
import { api as apiOf } from './api.ts';
import { authorizeRequest, bearer, discover, insecure, type Browser } from './browser.ts';

/** Shows whether GET /oauth/authorize answers the login form (200) or a code redirect (303) for this browser. */
export async function authorizeStatus(issuerUrl: string, browser: Browser, clientId: string, extra: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const response = await authorizeRequest(issuerUrl, browser, clientId, extra);
  return { status: response.status, body: await response.text() };
}

/** A refresh-token grant for a public client; rejects with oauth.ResponseBodyError on an OAuth error. */
export async function refresh(issuerUrl: string, clientId: string, refreshToken: string, clientSecret?: string) {
  const as = await discover(issuerUrl);
  const client = { client_id: clientId };
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  return oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, insecure));
}

/** HEAD /api/v2/tokens/me: 200 while the token is live, 401 once it is not. */
export async function tokenStatus(baseUrl: string, accessToken: string): Promise<number> {
  return (await fetch(baseUrl + '/api/v2/tokens/me', { method: 'HEAD', headers: bearer(accessToken) })).status;
}

/** A JSON API call with a bearer token (helpers/api.ts with the arguments in another order). */
export function api(baseUrl: string, accessToken: string, method: string, path: string, body?: unknown) {
  return apiOf(baseUrl)(method, path, accessToken, body);
}

/** Whether a refresh attempt failed with the given OAuth error. */
export const isOAuthError = (code: string) => (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === code;
