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

/**
 * The authorization-code + PKCE flow with oauth4webapi as the client library: authorize,
 * post the login form if one is shown, follow the redirect, exchange the code.
 */
export async function signIn(issuerUrl: string, browser: Browser, spec: ClientSpec, credentials?: { username: string; password: string }): Promise<SignIn> {
  const issuer = new URL(issuerUrl);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client: oauth.Client = { client_id: spec.clientId, ...(spec.clockSkewSeconds ? { [oauth.clockSkew]: spec.clockSkewSeconds } : {}) };
  const clientAuth = spec.clientSecret ? oauth.ClientSecretBasic(spec.clientSecret) : oauth.None();
  const redirectUri = spec.redirectUri ?? 'http://127.0.0.1:9/callback';
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: spec.clientId, redirect_uri: redirectUri, response_type: 'code', scope: spec.scope ?? 'openid email profile',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
  }).toString();

  let response = await browser.fetch(url.toString());
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
  const tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, { expectedNonce: nonce, requireIdToken: true });
  return { tokens, passwordPrompted };
}

export async function discover(issuerUrl: string) {
  const issuer = new URL(issuerUrl);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A client-credentials token of the demo `automation` client (admin role). */
export async function automationToken(issuerUrl: string, secret: string): Promise<string> {
  const as = await discover(issuerUrl);
  const client = { client_id: 'automation' };
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), new URLSearchParams(), insecure);
  return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
}

/** Starts an authorization request in `browser` and says what the server answered: the login form, or a redirect with a code. */
export async function authorizeOutcome(issuerUrl: string, browser: Browser, clientId: string): Promise<'login_form' | 'code' | string> {
  const url = new URL(issuerUrl + '/oauth/authorize');
  url.search = new URLSearchParams({
    client_id: clientId, redirect_uri: 'http://127.0.0.1:9/callback', response_type: 'code', scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256', state: 's',
  }).toString();
  const res = await browser.fetch(url.toString());
  if (res.status === 200 && /name="password"/.test(await res.text())) return 'login_form';
  if (res.status === 303 && new URL(res.headers.get('location')!).searchParams.has('code')) return 'code';
  return `unexpected ${res.status}`;
}
