import * as oauth from 'oauth4webapi';

/** Options every oauth4webapi call needs against our plain-HTTP loopback test server. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A minimal browser: a cookie jar and manual redirects, enough to drive the login form over real HTTP. */
export class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** The hidden and visible inputs of the first form of an HTML page. */
export function formFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of page.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  }
  return fields;
}

export interface SignIn {
  tokens: oauth.TokenEndpointResponse;
  /** True when the authorize step showed the login form (a password was needed). */
  passwordPrompted: boolean;
}

export interface ClientSpec {
  clientId: string;
  clientSecret?: string;
  redirectUri?: string;
  scope?: string;
  /** Seconds the server's (injected) clock runs ahead of real time, so oauth4webapi accepts the ID token. */
  clockSkewSeconds?: number;
}

const DEFAULT_REDIRECT = 'http://127.0.0.1:9/callback';

/** An authorization request URL (code flow, S256 PKCE challenge of `verifier`). */
async function authorizeUrl(endpoint: string, verifier: string, params: Record<string, string>): Promise<string> {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
  }).toString();
  return url.toString();
}

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

/** GET /oauth/authorize (+ the login form when shown) up to the redirect that carries the code; `extra` adds authorize parameters. */
export async function authorizeCode(
  issuerUrl: string, browser: Browser, spec: ClientSpec,
  credentials?: { username: string; password: string }, extra: Record<string, string> = {},
): Promise<AuthorizeStep> {
  const as = await discover(issuerUrl);
  const client: oauth.Client = { client_id: spec.clientId, ...(spec.clockSkewSeconds ? { [oauth.clockSkew]: spec.clockSkewSeconds } : {}) };
  const redirectUri = spec.redirectUri ?? DEFAULT_REDIRECT;
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  let response = await browser.fetch(await authorizeUrl(as.authorization_endpoint!, verifier, {
    client_id: spec.clientId, redirect_uri: redirectUri, scope: spec.scope ?? 'openid email profile', state, nonce, ...extra,
  }));
  let passwordPrompted = false;
  if (response.status === 200) {
    passwordPrompted = true;
    if (!credentials) throw new Error('the server asked for a password but none was given');
    const fields = { ...formFields(await response.text()), ...credentials };
    response = await browser.fetch(as.authorization_endpoint!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields),
    });
  }
  if (response.status !== 303) throw new Error(`authorize answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const callback = new URL(response.headers.get('location')!);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  return { as, client, code: params.get('code')!, callback, params, redirectUri, verifier, nonce, passwordPrompted };
}

/** The token request for an authorization step (public client unless a secret is given). */
export async function exchangeCode(step: AuthorizeStep, clientSecret?: string): Promise<oauth.TokenEndpointResponse> {
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  const response = await oauth.authorizationCodeGrantRequest(step.as, step.client, auth, step.params, step.redirectUri, step.verifier, insecure);
  return oauth.processAuthorizationCodeResponse(step.as, step.client, response, { expectedNonce: step.nonce, requireIdToken: true });
}

/**
 * The authorization-code + PKCE flow with oauth4webapi as the client library: authorize,
 * post the login form if one is shown, follow the redirect, exchange the code.
 */
export async function signIn(issuerUrl: string, browser: Browser, spec: ClientSpec, credentials?: { username: string; password: string }): Promise<SignIn> {
  const step = await authorizeCode(issuerUrl, browser, spec, credentials);
  return { tokens: await exchangeCode(step, spec.clientSecret), passwordPrompted: step.passwordPrompted };
}

export async function discover(issuerUrl: string) {
  const issuer = new URL(issuerUrl);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A client-credentials grant of a confidential client. */
export async function clientCredentials(issuerUrl: string, clientId: string, clientSecret: string) {
  const as = await discover(issuerUrl);
  const client = { client_id: clientId };
  return oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), new URLSearchParams(), insecure));
}

/** A client-credentials token of the demo `automation` client (admin role). */
export async function automationToken(issuerUrl: string, secret: string): Promise<string> {
  return (await clientCredentials(issuerUrl, 'automation', secret)).access_token;
}

/**
 * A throwaway authorization request in `browser` (scope openid, a fresh PKCE challenge nobody will
 * redeem); `extra` adds parameters. Answers the server's response: the login form or a redirect.
 */
export async function authorizeRequest(issuerUrl: string, browser: Browser, clientId: string, extra: Record<string, string> = {}): Promise<Response> {
  return browser.fetch(await authorizeUrl(issuerUrl + '/oauth/authorize', oauth.generateRandomCodeVerifier(), {
    client_id: clientId, redirect_uri: DEFAULT_REDIRECT, scope: 'openid', state: oauth.generateRandomState(), ...extra,
  }));
}

/** Starts an authorization request in `browser` and says what the server answered: the login form, or a redirect with a code. */
export async function authorizeOutcome(issuerUrl: string, browser: Browser, clientId: string): Promise<'login_form' | 'code' | string> {
  const res = await authorizeRequest(issuerUrl, browser, clientId);
  if (res.status === 200 && /name="password"/.test(await res.text())) return 'login_form';
  if (res.status === 303 && new URL(res.headers.get('location')!).searchParams.has('code')) return 'code';
  return `unexpected ${res.status}`;
}
