import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { bearer, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { presenceDefinitionId } from '../src/core/presence-definitions.ts';

/**
 * Bad input on every route: malformed JSON, wrong types, oversized bodies, unknown clients, wrong
 * redirect URIs, missing or wrong PKCE verifiers, reused codes. Each answer is a 4xx with a message
 * a caller can act on, in the shape of the endpoint (API JSON, OAuth JSON, or an HTML page).
 */

const BODY_LIMIT = 64 * 1024;
const REDIRECT = 'http://127.0.0.1:9/callback';

interface Ctx {
  url: string;
  /** automation's client-credentials token: an admin of the demo org. */
  admin: string;
  agent: { access: string; refresh: string; idToken: string; userId: string };
  groupId: string;
  /** A notification channel of the agent's token. */
  channelId: string;
  /** A fresh authorization code from the agent's sign-in session (no password needed). */
  code(clientId?: string): Promise<{ code: string; verifier: string; redirectUri: string }>;
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What an error answer looks like: API JSON, OAuth JSON, an HTML page, an error redirect (RFC 6749 §4.1.2.1), or an empty HEAD answer. */
type Shape = 'api' | 'oauth' | 'html' | 'redirect' | 'head';

interface Case {
  name: string;
  status: number;
  shape: Shape;
  /** API `code` or OAuth `error` expected. */
  error?: string;
  /** The message (API message, OAuth error_description, page text) must match. */
  says?: RegExp;
  request: (c: Ctx) => Req | Promise<Req>;
}

interface ReqOptions {
  token?: string;
  basic?: [string, string];
  json?: unknown;
  /** A raw body sent as application/json. */
  rawJson?: string;
  form?: Record<string, string>;
  /** A raw body with an explicit content type. */
  raw?: { type: string; body: string };
  headers?: Record<string, string>;
}

function req(method: string, path: string, o: ReqOptions = {}): Req {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) Object.assign(headers, bearer(o.token));
  if (o.basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(o.basic[0])}:${encodeURIComponent(o.basic[1])}`).toString('base64')}`;
  let body: string | undefined;
  if (o.json !== undefined) [headers['content-type'], body] = ['application/json', JSON.stringify(o.json)];
  if (o.rawJson !== undefined) [headers['content-type'], body] = ['application/json', o.rawJson];
  if (o.form) [headers['content-type'], body] = ['application/x-www-form-urlencoded', new URLSearchParams(o.form).toString()];
  if (o.raw) [headers['content-type'], body] = [o.raw.type, o.raw.body];
  return { method, path, headers, body };
}

const big = (n = BODY_LIMIT + 4096) => 'x'.repeat(n);
const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
const VERIFIER_OF_ANOTHER_REQUEST = oauth.generateRandomCodeVerifier();
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

async function send(c: Ctx, r: Req): Promise<Response> {
  return fetch(c.url + r.path, { method: r.method, headers: r.headers, body: r.body, redirect: 'manual' });
}

/** Visible text of an HTML page's <main>, tags stripped. */
const pageText = (page: string) =>
  (/<main>([\s\S]*)<\/main>/.exec(page)?.[1] ?? '').replace(/<form[\s\S]*<\/form>/, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

async function check(res: Response, k: Case) {
  const text = await res.text();
  const where = `${k.name}: ${res.status} ${res.headers.get('content-type')} ${text.slice(0, 300)}`;
  assert.ok(res.status < 500, `no 5xx — ${where}`);
  assert.equal(res.status, k.status, where);
  switch (k.shape) {
    case 'api': {
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, where);
      const body = JSON.parse(text);
      assert.equal(body.status, res.status, where);
      assert.match(body.code, /^[a-z]+(\.[a-z]+)*$/, where);
      assert.equal(typeof body.message, 'string', where);
      assert.ok(body.message.trim().length > 0, where);
      if (k.error) assert.equal(body.code, k.error, where);
      if (k.says) assert.match(body.message, k.says, where);
      // Genesys Cloud's ErrorBody, as its SDK parses it.
      assert.equal(body.messageWithParams, body.message, where);
      assert.equal(typeof body.messageParams, 'object', where);
      assert.match(body.contextId, /^[0-9a-f-]{36}$/, `contextId is the request id — ${where}`);
      assert.ok(Array.isArray(body.details) && Array.isArray(body.errors), where);
      if (res.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /, where);
      break;
    }
    case 'oauth': {
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, where);
      const body = JSON.parse(text);
      assert.equal(typeof body.error, 'string', where);
      assert.match(body.error, /^[a-z_]+$/, where);
      assert.equal(typeof body.error_description, 'string', where);
      assert.ok(body.error_description.trim().length > 0, where);
      if (k.error) assert.equal(body.error, k.error, where);
      if (k.says) assert.match(body.error_description, k.says, where);
      break;
    }
    case 'html': {
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, where);
      const visible = pageText(text);
      assert.ok(visible.length > 0, `the page says something — ${where}`);
      if (k.says) assert.match(visible, k.says, where);
      break;
    }
    case 'redirect': {
      const location = new URL(res.headers.get('location') ?? 'about:blank');
      assert.equal(location.searchParams.get('error'), k.error ?? location.searchParams.get('error'), where);
      assert.ok(location.searchParams.get('error'), where);
      assert.ok(location.searchParams.get('error_description')?.trim(), where);
      assert.equal(location.searchParams.get('code'), null, 'no code on an error redirect');
      if (k.says) assert.match(location.searchParams.get('error_description')!, k.says, where);
      break;
    }
    case 'head': {
      assert.equal(text, '', where);
      if (res.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /, where);
      break;
    }
  }
}

/** An authorization request for the login form, with a valid PKCE challenge. */
async function authorizeParams(clientId = 'agent-desktop', redirectUri = REDIRECT) {
  const verifier = oauth.generateRandomCodeVerifier();
  return {
    verifier,
    params: {
      client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st',
    } as Record<string, string>,
  };
}

/** The login form's CSRF cookie and hidden field, from a real GET of the form. */
async function loginForm(c: Ctx, clientId = 'agent-desktop') {
  const { params } = await authorizeParams(clientId);
  const res = await fetch(`${c.url}/oauth/authorize${q(params)}`, { redirect: 'manual' });
  assert.equal(res.status, 200);
  const page = await res.text();
  const csrf = /name="csrf" value="([^"]*)"/.exec(page)![1]!;
  const cookie = res.headers.getSetCookie().map((l) => l.split(';')[0]).join('; ');
  return { params, csrf, cookie };
}

// ---------------------------------------------------------------------------------------------
// The table, route by route.
// ---------------------------------------------------------------------------------------------

const token = (o: ReqOptions) => req('POST', '/oauth/token', o);
const automation: [string, string] = ['automation', DEMO_SECRET];

const TOKEN_ENDPOINT: Case[] = [
  { name: 'malformed JSON', status: 400, shape: 'oauth', error: 'invalid_request', says: /JSON/, request: () => token({ rawJson: '{"grant_type":' }) },
  { name: 'JSON with a __proto__ key', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ rawJson: '{"__proto__":{"admin":true},"grant_type":"client_credentials"}' }) },
  { name: 'empty JSON body', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ rawJson: '' }) },
  { name: 'JSON null', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ rawJson: 'null' }) },
  { name: 'JSON array', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ rawJson: '[]' }) },
  { name: 'no body at all', status: 400, shape: 'oauth', error: 'invalid_request', request: () => req('POST', '/oauth/token') },
  { name: 'unsupported Content-Type', status: 415, shape: 'oauth', says: /Content-Type/, request: () => token({ raw: { type: 'application/xml', body: '<grant_type>client_credentials</grant_type>' } }) },
  { name: 'oversized form body', status: 413, shape: 'oauth', says: /too large/, request: () => token({ basic: automation, raw: { type: 'application/x-www-form-urlencoded', body: `grant_type=client_credentials&scope=${big()}` } }) },
  { name: 'oversized JSON body', status: 413, shape: 'oauth', says: /too large/, request: () => token({ basic: automation, json: { grant_type: 'client_credentials', scope: big() } }) },
  { name: 'missing grant_type', status: 400, shape: 'oauth', error: 'invalid_request', says: /grant_type/, request: () => token({ basic: automation, form: { scope: 'api' } }) },
  { name: 'grant_type of the wrong type (object)', status: 400, shape: 'oauth', error: 'invalid_request', says: /grant_type/, request: () => token({ basic: automation, json: { grant_type: { x: 1 } } }) },
  { name: 'grant_type given twice', status: 400, shape: 'oauth', error: 'invalid_request', says: /grant_type/, request: () => token({ basic: automation, raw: { type: 'application/x-www-form-urlencoded', body: 'grant_type=client_credentials&grant_type=password' } }) },
  { name: 'unknown grant_type', status: 400, shape: 'oauth', error: 'unsupported_grant_type', request: () => token({ basic: automation, form: { grant_type: 'password', username: 'a', password: 'b' } }) },
  { name: 'implicit-style grant_type', status: 400, shape: 'oauth', error: 'unsupported_grant_type', request: () => token({ basic: automation, form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code' } }) },
  { name: 'field longer than allowed', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ basic: automation, form: { grant_type: 'client_credentials', scope: 'a'.repeat(5000) } }) },
  // Client authentication.
  { name: 'no client authentication', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ form: { grant_type: 'client_credentials' } }) },
  { name: 'unknown client (post)', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ form: { grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'x' } }) },
  { name: 'unknown client (Basic)', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ basic: ['no-such-client', 'x'], form: { grant_type: 'client_credentials' } }) },
  { name: 'wrong client secret', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ basic: ['automation', 'wrong'], form: { grant_type: 'client_credentials' } }) },
  { name: 'confidential client without its secret', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ form: { grant_type: 'client_credentials', client_id: 'automation' } }) },
  { name: 'malformed Basic credentials (no colon)', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ headers: { authorization: `Basic ${Buffer.from('automation').toString('base64')}` }, form: { grant_type: 'client_credentials' } }) },
  { name: 'malformed Basic credentials (bad percent-encoding)', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ headers: { authorization: `Basic ${Buffer.from('auto%:x%').toString('base64')}` }, form: { grant_type: 'client_credentials' } }) },
  { name: 'Basic and client_secret together', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ basic: automation, form: { grant_type: 'client_credentials', client_secret: DEMO_SECRET } }) },
  { name: 'client_id that contradicts Basic', status: 400, shape: 'oauth', error: 'invalid_request', request: () => token({ basic: automation, form: { grant_type: 'client_credentials', client_id: 'crm-backend' } }) },
  { name: 'public client presenting a secret', status: 401, shape: 'oauth', error: 'invalid_client', request: () => token({ form: { grant_type: 'client_credentials', client_id: 'agent-desktop', client_secret: 'x' } }) },
  // client_credentials
  { name: 'client_credentials by a public client', status: 400, shape: 'oauth', error: 'unauthorized_client', request: () => token({ form: { grant_type: 'client_credentials', client_id: 'agent-desktop' } }) },
  { name: 'client_credentials by a confidential client without that grant', status: 400, shape: 'oauth', error: 'unauthorized_client', request: () => token({ basic: ['crm-backend', DEMO_SECRET], form: { grant_type: 'client_credentials' } }) },
  // authorization_code
  { name: 'authorization_code by a client without that grant', status: 400, shape: 'oauth', error: 'unauthorized_client', request: () => token({ basic: automation, form: { grant_type: 'authorization_code', code: 'x', code_verifier: VERIFIER_OF_ANOTHER_REQUEST, redirect_uri: REDIRECT } }) },
  { name: 'authorization_code without code', status: 400, shape: 'oauth', error: 'invalid_request', says: /code/, request: () => token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code_verifier: VERIFIER_OF_ANOTHER_REQUEST, redirect_uri: REDIRECT } }) },
  {
    name: 'authorization_code without code_verifier (PKCE)', status: 400, shape: 'oauth', error: 'invalid_request', says: /code_verifier/,
    request: async (c) => {
      const { code, redirectUri } = await c.code();
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, redirect_uri: redirectUri } });
    },
  },
  {
    name: 'authorization_code with the verifier of another request', status: 400, shape: 'oauth', error: 'invalid_grant', says: /code_verifier/,
    request: async (c) => {
      const { code, redirectUri } = await c.code();
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, redirect_uri: redirectUri, code_verifier: VERIFIER_OF_ANOTHER_REQUEST } });
    },
  },
  {
    name: 'authorization_code with a malformed verifier (too short)', status: 400, shape: 'oauth', error: 'invalid_grant', says: /code_verifier/,
    request: async (c) => {
      const { code, redirectUri } = await c.code();
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, redirect_uri: redirectUri, code_verifier: 'short' } });
    },
  },
  {
    name: 'authorization_code with the challenge sent as verifier', status: 400, shape: 'oauth', error: 'invalid_grant', says: /code_verifier/,
    request: async (c) => {
      const { code, redirectUri, verifier } = await c.code();
      const challenge = await oauth.calculatePKCECodeChallenge(verifier);
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, redirect_uri: redirectUri, code_verifier: challenge } });
    },
  },
  {
    name: 'authorization_code with a wrong redirect_uri', status: 400, shape: 'oauth', error: 'invalid_grant', says: /redirect_uri/,
    request: async (c) => {
      const { code, verifier } = await c.code();
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/elsewhere' } });
    },
  },
  {
    name: 'authorization_code without redirect_uri', status: 400, shape: 'oauth', error: 'invalid_grant', says: /redirect_uri/,
    request: async (c) => {
      const { code, verifier } = await c.code();
      return token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, code_verifier: verifier } });
    },
  },
  {
    name: 'authorization_code redeemed by another client', status: 400, shape: 'oauth', error: 'invalid_grant',
    request: async (c) => {
      const { code, verifier, redirectUri } = await c.code('agent-desktop');
      return token({ form: { grant_type: 'authorization_code', client_id: 'crm-embedded', code, code_verifier: verifier, redirect_uri: redirectUri } });
    },
  },
  {
    name: 'authorization_code used twice', status: 400, shape: 'oauth', error: 'invalid_grant', says: /already used|invalid/,
    request: async (c) => {
      const { code, verifier, redirectUri } = await c.code();
      const once = token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code, code_verifier: verifier, redirect_uri: redirectUri } });
      const first = await send(c, once);
      assert.equal(first.status, 200, 'the first exchange succeeds');
      return once;
    },
  },
  { name: 'authorization_code that was never issued', status: 400, shape: 'oauth', error: 'invalid_grant', request: () => token({ form: { grant_type: 'authorization_code', client_id: 'agent-desktop', code: 'lsac_forged', code_verifier: VERIFIER_OF_ANOTHER_REQUEST, redirect_uri: REDIRECT } }) },
  // refresh_token
  { name: 'refresh_token missing', status: 400, shape: 'oauth', error: 'invalid_request', says: /refresh_token/, request: () => token({ form: { grant_type: 'refresh_token', client_id: 'agent-desktop' } }) },
  { name: 'refresh_token never issued', status: 400, shape: 'oauth', error: 'invalid_grant', request: () => token({ form: { grant_type: 'refresh_token', client_id: 'agent-desktop', refresh_token: 'lsrt_forged' } }) },
  { name: 'refresh_token of another client', status: 400, shape: 'oauth', error: 'invalid_grant', request: (c) => token({ form: { grant_type: 'refresh_token', client_id: 'crm-embedded', refresh_token: c.agent.refresh } }) },
  { name: 'refresh_token with a wider scope', status: 400, shape: 'oauth', error: 'invalid_grant', says: /scope/, request: (c) => token({ form: { grant_type: 'refresh_token', client_id: 'agent-desktop', refresh_token: c.agent.refresh, scope: 'openid admin' } }) },
  { name: 'refresh_token by a client without that grant', status: 400, shape: 'oauth', error: 'unauthorized_client', request: (c) => token({ basic: automation, form: { grant_type: 'refresh_token', refresh_token: c.agent.refresh } }) },
];

const revoke = (o: ReqOptions) => req('POST', '/oauth/revoke', o);
const REVOCATION_ENDPOINT: Case[] = [
  { name: 'malformed JSON', status: 400, shape: 'oauth', error: 'invalid_request', says: /JSON/, request: () => revoke({ rawJson: '{"token":' }) },
  { name: 'no body', status: 400, shape: 'oauth', error: 'invalid_request', request: () => req('POST', '/oauth/revoke') },
  { name: 'unsupported Content-Type', status: 415, shape: 'oauth', request: () => revoke({ raw: { type: 'text/csv', body: 'token,x' } }) },
  { name: 'oversized body', status: 413, shape: 'oauth', says: /too large/, request: () => revoke({ form: { client_id: 'agent-desktop', token: big() } }) },
  { name: 'missing token', status: 400, shape: 'oauth', error: 'invalid_request', says: /token/, request: () => revoke({ form: { client_id: 'agent-desktop' } }) },
  { name: 'empty token', status: 400, shape: 'oauth', error: 'invalid_request', says: /token/, request: () => revoke({ form: { client_id: 'agent-desktop', token: '' } }) },
  { name: 'token of the wrong type', status: 400, shape: 'oauth', error: 'invalid_request', request: () => revoke({ json: { client_id: 'agent-desktop', token: { a: 1 } } }) },
  { name: 'no client authentication', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => revoke({ form: { token: c.agent.access } }) },
  { name: 'unknown client', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => revoke({ form: { token: c.agent.access, client_id: 'no-such-client' } }) },
  { name: 'wrong client secret', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => revoke({ basic: ['crm-backend', 'wrong'], form: { token: c.agent.access } }) },
  { name: 'access token of another client', status: 400, shape: 'oauth', error: 'invalid_request', says: /not issued to this client/, request: (c) => revoke({ form: { token: c.agent.access, client_id: 'crm-embedded' } }) },
  { name: 'refresh token of another client', status: 400, shape: 'oauth', error: 'invalid_request', says: /not issued to this client/, request: (c) => revoke({ basic: ['crm-backend', DEMO_SECRET], form: { token: c.agent.refresh } }) },
];

const introspect = (o: ReqOptions) => req('POST', '/oauth/introspect', o);
const crmBackend: [string, string] = ['crm-backend', DEMO_SECRET];
const INTROSPECTION_ENDPOINT: Case[] = [
  { name: 'malformed JSON', status: 400, shape: 'oauth', error: 'invalid_request', says: /JSON/, request: () => introspect({ basic: crmBackend, rawJson: '{{' }) },
  { name: 'no body', status: 400, shape: 'oauth', error: 'invalid_request', request: () => introspect({ basic: crmBackend }) },
  { name: 'unsupported Content-Type', status: 415, shape: 'oauth', request: () => introspect({ basic: crmBackend, raw: { type: 'application/octet-stream', body: 'token' } }) },
  { name: 'oversized body', status: 413, shape: 'oauth', says: /too large/, request: () => introspect({ basic: crmBackend, form: { token: big() } }) },
  { name: 'missing token', status: 400, shape: 'oauth', error: 'invalid_request', says: /token/, request: () => introspect({ basic: crmBackend, form: {} }) },
  { name: 'token longer than allowed', status: 400, shape: 'oauth', error: 'invalid_request', says: /token/, request: () => introspect({ basic: crmBackend, form: { token: 'a'.repeat(5000) } }) },
  { name: 'token of the wrong type', status: 400, shape: 'oauth', error: 'invalid_request', request: () => introspect({ basic: crmBackend, json: { token: ['a', 'b'] } }) },
  { name: 'no client authentication', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => introspect({ form: { token: c.agent.access } }) },
  { name: 'a public client', status: 401, shape: 'oauth', error: 'invalid_client', says: /confidential/, request: (c) => introspect({ form: { token: c.agent.access, client_id: 'agent-desktop' } }) },
  { name: 'unknown client', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => introspect({ basic: ['no-such-client', 'x'], form: { token: c.agent.access } }) },
  { name: 'wrong client secret', status: 401, shape: 'oauth', error: 'invalid_client', request: (c) => introspect({ basic: ['crm-backend', 'nope'], form: { token: c.agent.access } }) },
  { name: 'Basic and client_secret together', status: 400, shape: 'oauth', error: 'invalid_request', request: (c) => introspect({ basic: crmBackend, form: { token: c.agent.access, client_secret: DEMO_SECRET } }) },
];

const authorize = async (params: Record<string, string>) => req('GET', `/oauth/authorize${q(params)}`);
const withParams = async (change: Record<string, string | null>) => {
  const { params } = await authorizeParams();
  for (const [k, v] of Object.entries(change)) if (v == null) delete params[k]; else params[k] = v;
  return params;
};
const AUTHORIZE_GET: Case[] = [
  { name: 'no parameters', status: 400, shape: 'html', says: /client_id/, request: () => req('GET', '/oauth/authorize') },
  { name: 'unknown client', status: 400, shape: 'html', says: /Unknown application/, request: async () => authorize(await withParams({ client_id: 'no-such-client' })) },
  { name: 'unregistered redirect URI', status: 400, shape: 'html', says: /redirect/i, request: async () => authorize(await withParams({ redirect_uri: 'https://evil.example/callback' })) },
  { name: 'loopback redirect URI with another path', status: 400, shape: 'html', says: /redirect/i, request: async () => authorize(await withParams({ redirect_uri: 'http://127.0.0.1:9/callback/../steal' })) },
  { name: 'redirect URI that is not a URL', status: 400, shape: 'html', says: /redirect/i, request: async () => authorize(await withParams({ redirect_uri: 'not a url' })) },
  { name: 'missing redirect URI', status: 400, shape: 'html', says: /redirect/i, request: async () => authorize(await withParams({ redirect_uri: null })) },
  { name: 'client without redirect URIs (automation)', status: 400, shape: 'html', says: /redirect/i, request: async () => authorize(await withParams({ client_id: 'automation' })) },
  { name: 'parameter longer than allowed', status: 400, shape: 'html', says: /client_id/, request: async () => authorize(await withParams({ client_id: 'c'.repeat(3000) })) },
  { name: 'parameter given twice', status: 400, shape: 'html', says: /client_id/, request: async () => req('GET', `/oauth/authorize${q(await withParams({}))}&client_id=crm-embedded`) },
  // Errors about the request itself go back to the (valid) redirect URI (RFC 6749 §4.1.2.1).
  { name: 'missing code_challenge (PKCE)', status: 303, shape: 'redirect', error: 'invalid_request', says: /code_challenge/, request: async () => authorize(await withParams({ code_challenge: null })) },
  { name: 'plain code_challenge_method', status: 303, shape: 'redirect', error: 'invalid_request', says: /S256/, request: async () => authorize(await withParams({ code_challenge_method: 'plain' })) },
  { name: 'max_age that is not a number', status: 303, shape: 'redirect', error: 'invalid_request', says: /max_age/, request: async () => authorize(await withParams({ max_age: '1e3' })) },
  { name: 'prompt=none with login', status: 303, shape: 'redirect', error: 'invalid_request', says: /prompt/, request: async () => authorize(await withParams({ prompt: 'none login' })) },
  { name: 'missing code_challenge_method', status: 303, shape: 'redirect', error: 'invalid_request', says: /S256/, request: async () => authorize(await withParams({ code_challenge_method: null })) },
  { name: 'malformed code_challenge', status: 303, shape: 'redirect', error: 'invalid_request', says: /code_challenge/, request: async () => authorize(await withParams({ code_challenge: 'too-short' })) },
  { name: 'response_type token', status: 303, shape: 'redirect', error: 'unsupported_response_type', request: async () => authorize(await withParams({ response_type: 'token' })) },
];

const authorizePost = (o: ReqOptions) => req('POST', '/oauth/authorize', o);
const AUTHORIZE_POST: Case[] = [
  { name: 'no body', status: 400, shape: 'html', request: () => req('POST', '/oauth/authorize') },
  { name: 'malformed JSON', status: 400, shape: 'html', says: /JSON/, request: () => authorizePost({ rawJson: '{"client_id":' }) },
  { name: 'unsupported Content-Type', status: 415, shape: 'html', says: /Content-Type/, request: () => authorizePost({ raw: { type: 'application/xml', body: '<login/>' } }) },
  { name: 'oversized body', status: 413, shape: 'html', says: /too large/, request: async () => authorizePost({ form: { ...(await withParams({})), username: 'agent@demo.test', password: big() } }) },
  { name: 'field of the wrong type', status: 400, shape: 'html', says: /username/, request: async () => authorizePost({ json: { ...(await withParams({})), username: { $ne: null } } }) },
  { name: 'unknown client', status: 400, shape: 'html', says: /Unknown application/, request: async () => authorizePost({ form: { ...(await withParams({ client_id: 'no-such-client' })), username: 'agent@demo.test', password: 'x' } }) },
  { name: 'unregistered redirect URI', status: 400, shape: 'html', says: /redirect/i, request: async () => authorizePost({ form: { ...(await withParams({ redirect_uri: 'https://evil.example/cb' })), username: 'agent@demo.test', password: 'x' } }) },
  { name: 'missing code_challenge', status: 303, shape: 'redirect', error: 'invalid_request', request: async () => authorizePost({ form: { ...(await withParams({ code_challenge: null })), username: 'agent@demo.test', password: 'x' } }) },
  { name: 'no CSRF token', status: 403, shape: 'html', says: /expired|not sent from this site/, request: async () => authorizePost({ form: { ...(await withParams({})), username: 'agent@demo.test', password: DEMO_PASSWORD } }) },
  {
    name: 'CSRF field that does not match the cookie', status: 403, shape: 'html', says: /expired|not sent from this site/,
    request: async (c) => {
      const { params, cookie } = await loginForm(c);
      return authorizePost({ headers: { cookie }, form: { ...params, csrf: 'forged', username: 'agent@demo.test', password: DEMO_PASSWORD } });
    },
  },
  {
    name: 'missing password', status: 400, shape: 'html', says: /email and password/,
    request: async (c) => {
      const { params, cookie, csrf } = await loginForm(c);
      return authorizePost({ headers: { cookie }, form: { ...params, csrf, username: 'agent@demo.test' } });
    },
  },
  {
    name: 'wrong password', status: 401, shape: 'html', says: /Incorrect email or password/,
    request: async (c) => {
      const { params, cookie, csrf } = await loginForm(c);
      return authorizePost({ headers: { cookie }, form: { ...params, csrf, username: 'nobody@demo.test', password: 'wrong-password' } });
    },
  },
];

const LOGOUT: Case[] = [
  { name: 'id_token_hint that is not a JWT', status: 400, shape: 'html', says: /id_token_hint/, request: () => req('GET', `/oauth/logout${q({ id_token_hint: 'garbage' })}`) },
  {
    name: 'id_token_hint with a forged signature', status: 400, shape: 'html', says: /id_token_hint/,
    request: (c) => {
      const [h, p] = c.agent.idToken.split('.');
      return req('GET', `/oauth/logout${q({ id_token_hint: `${h}.${p}.${Buffer.from('forged').toString('base64url')}` })}`);
    },
  },
  { name: 'client_id that contradicts the id_token_hint', status: 400, shape: 'html', says: /client_id/, request: (c) => req('GET', `/oauth/logout${q({ id_token_hint: c.agent.idToken, client_id: 'crm-embedded' })}`) },
  { name: 'Genesys /logout to an unregistered redirect_uri', status: 400, shape: 'html', says: /redirect_uri/, request: () => req('GET', `/logout${q({ client_id: 'agent-desktop', redirect_uri: 'https://evil.example/' })}`) },
  { name: 'Genesys /logout with a redirect_uri but no client', status: 400, shape: 'html', says: /redirect_uri/, request: () => req('GET', `/logout${q({ redirect_uri: 'http://127.0.0.1:9/callback' })}`) },
  { name: 'Genesys /logout with an over-long parameter', status: 400, shape: 'html', request: () => req('GET', `/logout${q({ client_id: 'c'.repeat(5000) })}`) },
  { name: 'unregistered post_logout_redirect_uri', status: 400, shape: 'html', says: /post_logout_redirect_uri/, request: () => req('GET', `/oauth/logout${q({ client_id: 'agent-desktop', post_logout_redirect_uri: 'https://evil.example/' })}`) },
  { name: 'post_logout_redirect_uri without a client', status: 400, shape: 'html', says: /post_logout_redirect_uri/, request: () => req('GET', `/oauth/logout${q({ post_logout_redirect_uri: 'http://127.0.0.1:8080/demo/agent' })}`) },
  { name: 'post_logout_redirect_uri of an unknown client', status: 400, shape: 'html', says: /post_logout_redirect_uri/, request: () => req('GET', `/oauth/logout${q({ client_id: 'no-such-client', post_logout_redirect_uri: 'http://127.0.0.1:8080/demo/agent' })}`) },
  { name: 'parameter longer than allowed', status: 400, shape: 'html', says: /state/, request: () => req('GET', `/oauth/logout${q({ client_id: 'agent-desktop', state: 's'.repeat(5000) })}`) },
];

const me = '/api/v2/tokens/me';
const TOKENS_API: Case[] = [
  { name: 'HEAD me without a token', status: 401, shape: 'head', request: () => req('HEAD', me) },
  { name: 'HEAD me with an unknown token', status: 401, shape: 'head', request: () => req('HEAD', me, { token: 'lsat_unknown' }) },
  { name: 'HEAD me with a malformed Authorization header', status: 401, shape: 'head', request: () => req('HEAD', me, { headers: { authorization: 'Bearer two words' } }) },
  { name: 'GET me without a token', status: 401, shape: 'api', error: 'token.missing', request: () => req('GET', me) },
  { name: 'GET me with an unknown token', status: 401, shape: 'api', error: 'token.unknown', says: /not known/, request: () => req('GET', me, { token: 'lsat_unknown' }) },
  { name: 'GET me with Basic instead of Bearer', status: 401, shape: 'api', error: 'token.malformed', says: /Bearer/, request: () => req('GET', me, { headers: { authorization: 'Basic YTpi' } }) },
  { name: 'GET me with an empty Bearer', status: 401, shape: 'api', error: 'token.malformed', request: () => req('GET', me, { headers: { authorization: 'Bearer ' } }) },
  { name: 'GET me with a client secret as token', status: 401, shape: 'api', error: 'token.unknown', request: () => req('GET', me, { token: DEMO_SECRET }) },
  { name: 'GET me with preserveIdleTTL=maybe', status: 400, shape: 'api', error: 'bad.request', says: /preserveIdleTTL/, request: (c) => req('GET', `${me}?preserveIdleTTL=maybe`, { token: c.agent.access }) },
  { name: 'DELETE me without a token', status: 401, shape: 'api', request: () => req('DELETE', me) },
  { name: 'DELETE me with an unknown token', status: 401, shape: 'api', error: 'token.unknown', request: () => req('DELETE', me, { token: 'lsat_unknown' }) },
  { name: 'DELETE me with a malformed JSON body', status: 400, shape: 'api', error: 'bad.request', says: /JSON/, request: (c) => req('DELETE', me, { token: c.agent.access, rawJson: '{"x":' }) },
  { name: 'DELETE me with an oversized body', status: 413, shape: 'api', error: 'payload.too.large', request: (c) => req('DELETE', me, { token: c.agent.access, json: { pad: big() } }) },
  { name: 'DELETE {userId} without a token', status: 401, shape: 'api', request: (c) => req('DELETE', `/api/v2/tokens/${c.agent.userId}`) },
  { name: 'DELETE {userId} as a non-admin', status: 403, shape: 'api', error: 'missing.permission', says: /admin/, request: (c) => req('DELETE', `/api/v2/tokens/${c.agent.userId}`, { token: c.agent.access }) },
  { name: 'DELETE {userId} of an unknown user', status: 404, shape: 'api', error: 'not.found', request: (c) => req('DELETE', `/api/v2/tokens/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'DELETE {userId} with an over-long id', status: 400, shape: 'api', error: 'bad.request', says: /longer than allowed/, request: (c) => req('DELETE', `/api/v2/tokens/${'u'.repeat(200)}`, { token: c.admin }) },
  { name: 'DELETE {userId} with a bad percent-encoding', status: 400, shape: 'api', request: (c) => req('DELETE', '/api/v2/tokens/%E0%A4%A', { token: c.admin }) },
];

const users = '/api/v2/users';
const USERS_API: Case[] = [
  { name: 'GET list without a token', status: 401, shape: 'api', request: () => req('GET', users) },
  { name: 'GET list as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('GET', users, { token: c.agent.access }) },
  { name: 'POST malformed JSON', status: 400, shape: 'api', error: 'bad.request', says: /JSON/, request: (c) => req('POST', users, { token: c.admin, rawJson: '{"email":"x@demo.test",' }) },
  { name: 'POST empty JSON body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', users, { token: c.admin, rawJson: '' }) },
  { name: 'POST JSON array', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', users, { token: c.admin, json: [] }) },
  { name: 'POST JSON with __proto__', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', users, { token: c.admin, rawJson: '{"email":"p@demo.test","name":"P","roles":[],"__proto__":{"roles":["admin"]}}' }) },
  { name: 'POST unsupported Content-Type', status: 415, shape: 'api', error: 'unsupported.media.type', request: (c) => req('POST', users, { token: c.admin, raw: { type: 'application/xml', body: '<user/>' } }) },
  { name: 'POST form instead of JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', users, { token: c.admin, form: { email: 'f@demo.test', name: 'F' } }) },
  { name: 'POST oversized body', status: 413, shape: 'api', error: 'payload.too.large', request: (c) => req('POST', users, { token: c.admin, json: { email: 'big@demo.test', name: big(), roles: [] } }) },
  { name: 'POST missing email', status: 400, shape: 'api', error: 'bad.request', says: /email/, request: (c) => req('POST', users, { token: c.admin, json: { name: 'No Mail', roles: [] } }) },
  { name: 'POST invalid email', status: 400, shape: 'api', error: 'bad.request', says: /email/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'not-an-email', name: 'X', roles: [] } }) },
  { name: 'POST email of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /email/, request: (c) => req('POST', users, { token: c.admin, json: { email: 12345, name: 'X', roles: [] } }) },
  { name: 'POST name of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /name/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'n@demo.test', name: { first: 'a' }, roles: [] } }) },
  { name: 'POST empty name', status: 400, shape: 'api', error: 'bad.request', says: /name/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'n@demo.test', name: '', roles: [] } }) },
  { name: 'POST unknown role', status: 400, shape: 'api', error: 'bad.request', says: /roles/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'r@demo.test', name: 'R', roles: ['root'] } }) },
  { name: 'POST roles of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /roles/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'r@demo.test', name: 'R', roles: { admin: true } } }) },
  { name: 'POST duplicate roles', status: 400, shape: 'api', error: 'bad.request', says: /roles/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'r@demo.test', name: 'R', roles: ['agent', 'agent'] } }) },
  { name: 'POST password too short', status: 400, shape: 'api', error: 'bad.request', says: /password/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'pw@demo.test', name: 'P', roles: [], password: 'short' } }) },
  { name: 'POST unknown property', status: 400, shape: 'api', error: 'bad.request', says: /additional|orgId/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'o@demo.test', name: 'O', roles: [], orgId: 'other' } }) },
  { name: 'POST email already taken', status: 409, shape: 'api', error: 'conflict', says: /already exists/, request: (c) => req('POST', users, { token: c.admin, json: { email: 'agent@demo.test', name: 'Dup', roles: ['agent'] } }) },
  { name: 'POST as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('POST', users, { token: c.agent.access, json: { email: 'sneaky@demo.test', name: 'S', roles: ['admin'] } }) },
  { name: 'GET unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `${users}/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'GET over-long id', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('GET', `${users}/${'i'.repeat(200)}`, { token: c.admin }) },
  { name: 'GET bad percent-encoding in the path', status: 400, shape: 'api', request: (c) => req('GET', `${users}/%E0%A4%A`, { token: c.admin }) },
  { name: 'GET one as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('GET', `${users}/${c.agent.userId}`, { token: c.agent.access }) },
  { name: 'PATCH unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PATCH', `${users}/${UNKNOWN_ID}`, { token: c.admin, json: { name: 'Ghost' } }) },
  { name: 'PATCH empty object', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, json: {} }) },
  { name: 'PATCH invalid email', status: 400, shape: 'api', error: 'bad.request', says: /email/, request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, json: { email: 'nope' } }) },
  { name: 'PATCH email of another user', status: 409, shape: 'api', error: 'conflict', request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, json: { email: 'agent2@demo.test' } }) },
  { name: 'PATCH malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, rawJson: '{name:"x"}' }) },
  { name: 'PATCH based on a stale version', status: 409, shape: 'api', error: 'conflict', says: /version/, request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, json: { name: 'Stale', version: 99 } }) },
  { name: 'PATCH version 0', status: 400, shape: 'api', error: 'bad.request', says: /version/, request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.admin, json: { name: 'Zero', version: 0 } }) },
  { name: 'GET list with pageNumber of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /pageNumber/, request: (c) => req('GET', `${users}?pageNumber=first`, { token: c.admin }) },
  { name: 'PATCH as a non-admin (self-promotion)', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PATCH', `${users}/${c.agent.userId}`, { token: c.agent.access, json: { roles: ['admin'] } }) },
  { name: 'DELETE unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('DELETE', `${users}/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'DELETE as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('DELETE', `${users}/${c.agent.userId}`, { token: c.agent.access }) },
];

const groups = '/api/v2/groups';
const GROUPS_API: Case[] = [
  { name: 'GET list as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('GET', groups, { token: c.agent.access }) },
  { name: 'POST malformed JSON', status: 400, shape: 'api', error: 'bad.request', says: /JSON/, request: (c) => req('POST', groups, { token: c.admin, rawJson: '{"name":' }) },
  { name: 'POST oversized body', status: 413, shape: 'api', error: 'payload.too.large', request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', description: big() } }) },
  { name: 'POST unsupported Content-Type', status: 415, shape: 'api', error: 'unsupported.media.type', request: (c) => req('POST', groups, { token: c.admin, raw: { type: 'image/png', body: 'png' } }) },
  { name: 'POST missing name', status: 400, shape: 'api', error: 'bad.request', says: /name/, request: (c) => req('POST', groups, { token: c.admin, json: { description: 'no name' } }) },
  { name: 'POST name too long', status: 400, shape: 'api', error: 'bad.request', says: /name/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'n'.repeat(201) } }) },
  { name: 'POST memberIds of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /memberIds/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', memberIds: { a: 1 } } }) },
  { name: 'POST unknown member', status: 400, shape: 'api', error: 'bad.request', says: /Unknown user ids/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', memberIds: [UNKNOWN_ID] } }) },
  { name: 'POST duplicate members', status: 400, shape: 'api', error: 'bad.request', says: /memberIds/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', memberIds: [c.agent.userId, c.agent.userId] } }) },
  { name: 'POST unknown property', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', orgId: 'other' } }) },
  { name: 'GET unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `${groups}/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'GET over-long id', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('GET', `${groups}/${'g'.repeat(129)}`, { token: c.admin }) },
  { name: 'PATCH unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PATCH', `${groups}/${UNKNOWN_ID}`, { token: c.admin, json: { name: 'X' } }) },
  { name: 'PATCH empty object', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', `${groups}/${c.groupId}`, { token: c.admin, json: {} }) },
  { name: 'PATCH description of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /description/, request: (c) => req('PATCH', `${groups}/${c.groupId}`, { token: c.admin, json: { description: { text: 'a' } } }) },
  { name: 'PATCH unknown member', status: 400, shape: 'api', error: 'bad.request', says: /Unknown user ids/, request: (c) => req('PATCH', `${groups}/${c.groupId}`, { token: c.admin, json: { memberIds: ['nobody'] } }) },
  { name: 'POST members of an unknown group', status: 404, shape: 'api', error: 'not.found', request: (c) => req('POST', `${groups}/${UNKNOWN_ID}/members`, { token: c.admin, json: { memberIds: [c.agent.userId] } }) },
  { name: 'POST members without memberIds', status: 400, shape: 'api', error: 'bad.request', says: /memberIds/, request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, json: { members: [] } }) },
  { name: 'POST members, none named', status: 400, shape: 'api', error: 'bad.request', says: /memberIds/, request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, json: { memberIds: [] } }) },
  { name: 'POST members with an unknown user', status: 400, shape: 'api', error: 'bad.request', says: /Unknown user ids/, request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, json: { memberIds: [c.agent.userId, UNKNOWN_ID] } }) },
  { name: 'POST members based on a stale version', status: 409, shape: 'api', error: 'conflict', says: /version/, request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, json: { memberIds: [c.agent.userId], version: 99 } }) },
  { name: 'POST members with a version of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /version/, request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, json: { memberIds: [c.agent.userId], version: 'latest' } }) },
  { name: 'POST members with malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin, rawJson: '{"memberIds":[' }) },
  { name: 'POST members with an empty body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.admin }) },
  { name: 'POST members as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('POST', `${groups}/${c.groupId}/members`, { token: c.agent.access, json: { memberIds: [c.agent.userId] } }) },
  { name: 'DELETE members without ids', status: 400, shape: 'api', error: 'bad.request', says: /ids/, request: (c) => req('DELETE', `${groups}/${c.groupId}/members`, { token: c.admin }) },
  { name: 'DELETE members of an unknown group', status: 404, shape: 'api', error: 'not.found', request: (c) => req('DELETE', `${groups}/${UNKNOWN_ID}/members?ids=${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'PUT group based on a stale version', status: 409, shape: 'api', error: 'conflict', says: /version/, request: (c) => req('PUT', `${groups}/${c.groupId}`, { token: c.admin, json: { name: 'X', version: 99 } }) },
  { name: 'PUT group changing its type', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${groups}/${c.groupId}`, { token: c.admin, json: { type: 'social' } }) },
  { name: 'POST group of an unknown type', status: 400, shape: 'api', error: 'bad.request', says: /type/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', type: 'secret' } }) },
  { name: 'POST group of an unknown visibility', status: 400, shape: 'api', error: 'bad.request', says: /visibility/, request: (c) => req('POST', groups, { token: c.admin, json: { name: 'G', visibility: 'everyone' } }) },
  { name: 'GET list with pageSize 0', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${groups}?pageSize=0`, { token: c.admin }) },
  { name: 'DELETE unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('DELETE', `${groups}/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'DELETE as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('DELETE', `${groups}/${c.groupId}`, { token: c.agent.access }) },
];

const clients = '/api/v2/oauth/clients';
const goodClient = { name: 'New App', type: 'public', redirectUris: ['https://app.example/cb'], grantTypes: ['authorization_code'] };
const CLIENTS_API: Case[] = [
  { name: 'GET list as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('GET', clients, { token: c.agent.access }) },
  { name: 'POST malformed JSON', status: 400, shape: 'api', error: 'bad.request', says: /JSON/, request: (c) => req('POST', clients, { token: c.admin, rawJson: '{"name":"x",}' }) },
  { name: 'POST oversized body', status: 413, shape: 'api', error: 'payload.too.large', request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, name: big() } }) },
  { name: 'POST unsupported Content-Type', status: 415, shape: 'api', error: 'unsupported.media.type', request: (c) => req('POST', clients, { token: c.admin, raw: { type: 'application/yaml', body: 'name: x' } }) },
  { name: 'POST missing type', status: 400, shape: 'api', error: 'bad.request', says: /type/, request: (c) => req('POST', clients, { token: c.admin, json: { name: 'X', redirectUris: [], grantTypes: ['authorization_code'] } }) },
  { name: 'POST unknown type', status: 400, shape: 'api', error: 'bad.request', says: /type/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, type: 'hybrid' } }) },
  { name: 'POST redirect URI that is not a URI', status: 400, shape: 'api', error: 'bad.request', says: /redirectUris/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, redirectUris: ['not a uri'] } }) },
  { name: 'POST redirectUris of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /redirectUris/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, redirectUris: { a: 'https://x' } } }) },
  { name: 'POST redirect URI with a fragment', status: 400, shape: 'api', error: 'bad.request', says: /fragment/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, redirectUris: ['https://app.example/cb#x'] } }) },
  { name: 'POST no grant types', status: 400, shape: 'api', error: 'bad.request', says: /grantTypes/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, grantTypes: [] } }) },
  { name: 'POST unknown grant type', status: 400, shape: 'api', error: 'bad.request', says: /grantTypes/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, grantTypes: ['implicit'] } }) },
  { name: 'POST public client with client_credentials', status: 400, shape: 'api', error: 'bad.request', says: /public client/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, grantTypes: ['client_credentials'] } }) },
  { name: 'POST public client with back-channel logout', status: 400, shape: 'api', error: 'bad.request', says: /confidential/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, backchannelLogoutUri: 'https://app.example/bc' } }) },
  { name: 'POST authorization_code without redirect URIs', status: 400, shape: 'api', error: 'bad.request', says: /redirect URI/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, redirectUris: [] } }) },
  { name: 'POST unknown role', status: 400, shape: 'api', error: 'bad.request', says: /roles/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, roles: ['superuser'] } }) },
  { name: 'POST allowed origin with a path', status: 400, shape: 'api', error: 'bad.request', says: /allowedOrigins.*origin/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, allowedOrigins: ['https://crm.example/app'] } }) },
  { name: 'POST allowed origin that is not http(s)', status: 400, shape: 'api', error: 'bad.request', says: /allowedOrigins/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, allowedOrigins: ['chrome-extension://abc'] } }) },
  { name: 'POST too many allowed origins', status: 400, shape: 'api', error: 'bad.request', says: /allowedOrigins/, request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://o${i}.example`) } }) },
  { name: 'POST unknown property (secret)', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', clients, { token: c.admin, json: { ...goodClient, secret: 'chosen' } }) },
  { name: 'POST as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('POST', clients, { token: c.agent.access, json: goodClient }) },
  { name: 'GET unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `${clients}/no-such-client`, { token: c.admin }) },
  { name: 'GET over-long id', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('GET', `${clients}/${'c'.repeat(129)}`, { token: c.admin }) },
  { name: 'PUT unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PUT', `${clients}/no-such-client`, { token: c.admin, json: goodClient }) },
  { name: 'PUT changing the type', status: 400, shape: 'api', error: 'bad.request', says: /type/, request: (c) => req('PUT', `${clients}/agent-desktop`, { token: c.admin, json: { ...goodClient, type: 'confidential' } }) },
  { name: 'PUT invalid body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${clients}/agent-desktop`, { token: c.admin, json: { name: 'Only a name' } }) },
  { name: 'PUT malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${clients}/agent-desktop`, { token: c.admin, rawJson: 'not json' }) },
  { name: 'PUT as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PUT', `${clients}/agent-desktop`, { token: c.agent.access, json: goodClient }) },
  { name: 'DELETE unknown id', status: 404, shape: 'api', error: 'not.found', request: (c) => req('DELETE', `${clients}/no-such-client`, { token: c.admin }) },
  { name: 'DELETE as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('DELETE', `${clients}/agent-desktop`, { token: c.agent.access }) },
];

const audits = '/api/v2/audits';
const AUDITS_API: Case[] = [
  { name: 'without a token', status: 401, shape: 'api', request: () => req('GET', audits) },
  { name: 'as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('GET', audits, { token: c.agent.access }) },
  { name: 'from that is not a date', status: 400, shape: 'api', error: 'bad.request', says: /from/, request: (c) => req('GET', `${audits}?from=yesterday`, { token: c.admin }) },
  { name: 'to that is a bare number', status: 400, shape: 'api', error: 'bad.request', says: /to/, request: (c) => req('GET', `${audits}?to=1700000000`, { token: c.admin }) },
  { name: 'from that is an impossible date', status: 400, shape: 'api', error: 'bad.request', says: /from/, request: (c) => req('GET', `${audits}?from=2024-13-45T99:00:00Z`, { token: c.admin }) },
  { name: 'pageSize=0', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=0`, { token: c.admin }) },
  { name: 'pageSize too large', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=50000`, { token: c.admin }) },
  { name: 'pageSize not a number', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=ten`, { token: c.admin }) },
  { name: 'pageSize Infinity', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=Infinity`, { token: c.admin }) },
  { name: 'pageSize a fraction', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=1.5`, { token: c.admin }) },
  { name: 'pageSize given twice', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=1&pageSize=2`, { token: c.admin }) },
  { name: 'pageNumber=0', status: 400, shape: 'api', error: 'bad.request', says: /pageNumber/, request: (c) => req('GET', `${audits}?pageNumber=0`, { token: c.admin }) },
  { name: 'pageSize far beyond a number', status: 400, shape: 'api', error: 'bad.request', says: /pageSize/, request: (c) => req('GET', `${audits}?pageSize=1e400`, { token: c.admin }) },
  { name: 'pageNumber Infinity on another list', status: 400, shape: 'api', error: 'bad.request', says: /pageNumber/, request: (c) => req('GET', `/api/v2/users?pageNumber=Infinity`, { token: c.admin }) },
  { name: 'pageNumber far too large', status: 400, shape: 'api', error: 'bad.request', says: /pageNumber/, request: (c) => req('GET', `${audits}?pageNumber=99999999999`, { token: c.admin }) },
  { name: 'userId longer than allowed', status: 400, shape: 'api', error: 'bad.request', says: /userId/, request: (c) => req('GET', `${audits}?userId=${'u'.repeat(200)}`, { token: c.admin }) },
  { name: 'kind longer than allowed', status: 400, shape: 'api', error: 'bad.request', says: /kind/, request: (c) => req('GET', `${audits}?kind=${'k'.repeat(100)}`, { token: c.admin }) },
];

const timeout = '/api/v2/tokens/timeout';
const hipaa = '/api/v2/organizations/features/hipaa';
const authSettings = '/api/v2/organizations/authentication/settings';
const validTimeout = { enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 900 };
const SETTINGS_API: Case[] = [
  { name: 'GET timeout without a token', status: 401, shape: 'api', request: () => req('GET', timeout) },
  { name: 'PUT timeout malformed JSON', status: 400, shape: 'api', error: 'bad.request', says: /JSON/, request: (c) => req('PUT', timeout, { token: c.admin, rawJson: '{"enableIdleTokenTimeout":tru' }) },
  { name: 'PUT timeout empty body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin }) },
  { name: 'PUT timeout oversized body', status: 413, shape: 'api', error: 'payload.too.large', request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, inactivityTimeoutUnit: big() } }) },
  { name: 'PUT timeout seconds of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /idleTokenTimeoutSeconds/, request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, idleTokenTimeoutSeconds: 'soon' } }) },
  { name: 'PUT timeout flag of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /enableIdleTokenTimeout/, request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, enableIdleTokenTimeout: 'maybe' } }) },
  { name: 'PUT timeout empty object', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin, json: {} }) },
  { name: 'PUT timeout unknown unit', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutUnit/, request: (c) => req('PUT', timeout, { token: c.admin, json: { inactivityTimeoutUnit: 'DAYS' } }) },
  { name: 'PUT timeout with the excluded paths of old', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin, json: { excludedPaths: [] } }) },
  { name: 'PUT timeout seconds far above the maximum', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, idleTokenTimeoutSeconds: 10_000_000 } }) },
  { name: 'PUT timeout negative seconds', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, idleTokenTimeoutSeconds: -5 } }) },
  { name: 'PUT timeout bundle with an invalid priority', status: 400, shape: 'api', error: 'bad.request', says: /priority/, request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, inactivityTimeoutGroupBundles: [{ priority: 9, timeoutSeconds: 900, groups: [c.groupId] }] } }) },
  { name: 'PUT timeout unknown property', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', timeout, { token: c.admin, json: { ...validTimeout, universalLogout: true } }) },
  { name: 'PUT timeout as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PUT', timeout, { token: c.agent.access, json: validTimeout }) },
  { name: 'PATCH hipaa flag of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /enabled/, request: (c) => req('PATCH', hipaa, { token: c.admin, json: { enabled: 'yes' } }) },
  { name: 'PATCH hipaa malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', hipaa, { token: c.admin, rawJson: '{"enabled"' }) },
  { name: 'PATCH hipaa as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PATCH', hipaa, { token: c.agent.access, json: { enabled: false } }) },
  { name: 'PATCH hipaa without enabled', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', hipaa, { token: c.admin, json: { hipaa: true } }) },
  { name: 'PATCH a feature Lockstep does not have', status: 404, shape: 'api', error: 'not.found', says: /hipaa/, request: (c) => req('PATCH', '/api/v2/organizations/features/pci', { token: c.admin, json: { enabled: true } }) },
  { name: 'PATCH auth settings empty object', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', authSettings, { token: c.admin, json: {} }) },
  { name: 'PATCH auth settings flag of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /universalLogout/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { universalLogout: 'on' } }) },
  { name: 'PATCH auth settings with the name of old', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', authSettings, { token: c.admin, json: { universalLogoutEnabled: true } }) },
  { name: 'PATCH exclusion outside /api/', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutExclusions/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { inactivityTimeoutExclusions: ['/oauth/token'] } }) },
  { name: 'PATCH exclusion with a regex', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutExclusions/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { inactivityTimeoutExclusions: ['/api/v2/(a+)+$'] } }) },
  { name: 'PATCH exclusions as one string (no coercion of bodies)', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutExclusions/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { inactivityTimeoutExclusions: '/api/v2/x' } }) },
  { name: 'PATCH hipaa with the string "true"', status: 400, shape: 'api', error: 'bad.request', says: /enabled/, request: (c) => req('PATCH', hipaa, { token: c.admin, json: { enabled: 'true' } }) },
  { name: 'PATCH exclusions not a list', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutExclusions/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { inactivityTimeoutExclusions: { path: '/api/v2/x' } } }) },
  { name: 'PATCH too many exclusions', status: 400, shape: 'api', error: 'bad.request', says: /inactivityTimeoutExclusions/, request: (c) => req('PATCH', authSettings, { token: c.admin, json: { inactivityTimeoutExclusions: Array.from({ length: 101 }, (_, i) => `/api/v2/p${i}`) } }) },
  { name: 'PATCH auth settings as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PATCH', authSettings, { token: c.agent.access, json: { universalLogout: true } }) },
];

const STATUS_API: Case[] = [
  { name: 'GET presence of an unknown user', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `${users}/${UNKNOWN_ID}/presences/purecloud`, { token: c.admin }) },
  { name: 'GET presence without a token', status: 401, shape: 'api', request: (c) => req('GET', `${users}/${c.agent.userId}/presences/purecloud`) },
  { name: 'PATCH presence with an unknown definition id', status: 400, shape: 'api', error: 'bad.request', says: /presence definition/, request: (c) => req('PATCH', `${users}/${c.agent.userId}/presences/purecloud`, { token: c.agent.access, json: { presenceDefinition: { id: UNKNOWN_ID } } }) },
  { name: 'PATCH presence by name only (Genesys sets it by id)', status: 400, shape: 'api', error: 'bad.request', says: /id/, request: (c) => req('PATCH', `${users}/${c.agent.userId}/presences/purecloud`, { token: c.agent.access, json: { presenceDefinition: { systemPresence: 'Available' } } }) },
  { name: 'PATCH presence whose id and name disagree', status: 400, shape: 'api', error: 'bad.request', says: /Available/, request: (c) => req('PATCH', `${users}/${c.agent.userId}/presences/purecloud`, { token: c.agent.access, json: { presenceDefinition: { id: presenceDefinitionId('Available'), systemPresence: 'Busy' } } }) },
  { name: 'PATCH presence without presenceDefinition', status: 400, shape: 'api', error: 'bad.request', says: /presenceDefinition/, request: (c) => req('PATCH', `${users}/${c.agent.userId}/presences/purecloud`, { token: c.agent.access, json: { systemPresence: 'Available' } }) },
  { name: 'GET presence of another source', status: 404, shape: 'api', error: 'not.found', says: /purecloud/, request: (c) => req('GET', `${users}/${c.agent.userId}/presences/microsoftteams`, { token: c.admin }) },
  { name: 'GET unknown presence definition', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `/api/v2/presence/definitions/${UNKNOWN_ID}`, { token: c.admin }) },
  { name: 'GET presence definitions with a bad query', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('GET', `/api/v2/presence/definitions?localeCode=${'x'.repeat(40)}`, { token: c.admin }) },
  { name: 'PATCH presence malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PATCH', `${users}/${c.agent.userId}/presences/purecloud`, { token: c.agent.access, rawJson: '{"presenceDefinition":' }) },
  { name: 'PATCH presence of another user as an agent', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PATCH', `${users}/${UNKNOWN_ID}/presences/purecloud`, { token: c.agent.access, json: { presenceDefinition: { id: presenceDefinitionId('Offline') } } }) },
  { name: 'PATCH presence of an unknown user as admin', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PATCH', `${users}/${UNKNOWN_ID}/presences/purecloud`, { token: c.admin, json: { presenceDefinition: { id: presenceDefinitionId('Offline') } } }) },
  { name: 'PUT routingstatus with an unknown status', status: 400, shape: 'api', error: 'bad.request', says: /status/, request: (c) => req('PUT', `${users}/${c.agent.userId}/routingstatus`, { token: c.agent.access, json: { status: 'ASLEEP' } }) },
  { name: 'PUT routingstatus of the wrong type', status: 400, shape: 'api', error: 'bad.request', says: /status/, request: (c) => req('PUT', `${users}/${c.agent.userId}/routingstatus`, { token: c.agent.access, json: { status: { a: 1 } } }) },
  { name: 'PUT routingstatus of an unknown user', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PUT', `${users}/${UNKNOWN_ID}/routingstatus`, { token: c.admin, json: { status: 'IDLE' } }) },
  { name: 'GET routingstatus over-long id', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('GET', `${users}/${'r'.repeat(150)}/routingstatus`, { token: c.admin }) },
  { name: 'PUT interaction with an unknown type', status: 400, shape: 'api', error: 'bad.request', says: /type/, request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.admin, json: { type: 'fax', state: 'connected' } }) },
  { name: 'PUT interaction with an unknown state', status: 400, shape: 'api', error: 'bad.request', says: /state/, request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.admin, json: { type: 'voice', state: 'ringing' } }) },
  { name: 'PUT interaction malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.admin, rawJson: '{"type":"voice",' }) },
  { name: 'PUT interaction naming another user or id in the body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.admin, json: { type: 'voice', state: 'connected', userId: 'someone-else', id: true } }) },
  { name: 'PUT demo interaction with extra fields (found by npm run fuzz: a 500)', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', '/demo/platform/interactions/isPrototypeOf', { token: c.agent.access, json: { type: 'voice', state: 'connected', id: true } }) },
  { name: 'PUT interaction without a body', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.admin }) },
  { name: 'PUT interaction of an unknown user', status: 404, shape: 'api', error: 'not.found', request: (c) => req('PUT', `${users}/${UNKNOWN_ID}/interactions/i-1`, { token: c.admin, json: { type: 'voice', state: 'disconnected' } }) },
  { name: 'PUT interaction as a non-admin', status: 403, shape: 'api', error: 'missing.permission', request: (c) => req('PUT', `${users}/${c.agent.userId}/interactions/i-1`, { token: c.agent.access, json: { type: 'voice', state: 'connected' } }) },
];

const channels = '/api/v2/notifications/channels';
const NOTIFICATIONS_API: Case[] = [
  { name: 'HEAD an unknown channel', status: 404, shape: 'head', request: (c) => req('HEAD', `${channels}/${UNKNOWN_ID}`, { token: c.agent.access }) },
  { name: 'GET subscriptions of an unknown channel', status: 404, shape: 'api', error: 'not.found', request: (c) => req('GET', `${channels}/${UNKNOWN_ID}/subscriptions`, { token: c.agent.access }) },
  { name: 'PUT subscriptions that are not a list', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('PUT', `${channels}/${c.channelId}/subscriptions`, { token: c.agent.access, json: { id: 'v2.users.x.presence' } }) },
  { name: 'POST too many topics', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', `${channels}/${c.channelId}/subscriptions`, { token: c.agent.access, json: Array.from({ length: 1001 }, (_, i) => ({ id: `t${i}` })) }) },
  { name: 'POST an unknown topic', status: 404, shape: 'api', error: 'not.found', says: /topic/, request: (c) => req('POST', `${channels}/${c.channelId}/subscriptions`, { token: c.agent.access, json: [{ id: 'v2.analytics.queues.q1.observations' }] }) },
  { name: 'POST the topic of a user of no org', status: 404, shape: 'api', error: 'not.found', says: /No user/, request: (c) => req('POST', `${channels}/${c.channelId}/subscriptions`, { token: c.agent.access, json: [{ id: `v2.users.${UNKNOWN_ID}.presence` }] }) },
  { name: 'POST with ignoreErrors that is not a boolean', status: 400, shape: 'api', error: 'bad.request', says: /ignoreErrors/, request: (c) => req('POST', `${channels}/${c.channelId}/subscriptions?ignoreErrors=perhaps`, { token: c.agent.access, json: [] }) },
  { name: 'POST subscriptions with malformed JSON', status: 400, shape: 'api', error: 'bad.request', request: (c) => req('POST', `${channels}/${c.channelId}/subscriptions`, { token: c.agent.access, rawJson: '[{"id":' }) },
];

const USERINFO: Case[] = [
  { name: 'GET without a token', status: 401, shape: 'oauth', error: 'invalid_token', request: () => req('GET', '/oauth/userinfo') },
  { name: 'POST with an unknown token', status: 401, shape: 'oauth', error: 'invalid_token', request: () => req('POST', '/oauth/userinfo', { token: 'lsat_unknown' }) },
  { name: 'GET with a client-credentials token (no user)', status: 403, shape: 'oauth', error: 'insufficient_scope', request: (c) => req('GET', '/oauth/userinfo', { token: c.admin }) },
];

const UNKNOWN_ROUTES: Case[] = [
  { name: 'unknown API route', status: 404, shape: 'api', error: 'not.found', says: /No route/, request: (c) => req('GET', '/api/v2/nothing-here', { token: c.admin }) },
  { name: 'unknown OAuth route', status: 404, shape: 'oauth', says: /No route/, request: () => req('POST', '/oauth/nothing-here') },
  { name: 'wrong method on the token endpoint', status: 404, shape: 'oauth', request: () => req('GET', '/oauth/token') },
];

const TABLE: [string, Case[]][] = [
  ['POST /oauth/token', TOKEN_ENDPOINT],
  ['POST /oauth/revoke', REVOCATION_ENDPOINT],
  ['POST /oauth/introspect', INTROSPECTION_ENDPOINT],
  ['GET /oauth/authorize', AUTHORIZE_GET],
  ['POST /oauth/authorize', AUTHORIZE_POST],
  ['GET /oauth/logout', LOGOUT],
  ['/oauth/userinfo', USERINFO],
  ['/api/v2/tokens', TOKENS_API],
  ['/api/v2/users', USERS_API],
  ['/api/v2/groups', GROUPS_API],
  ['/api/v2/oauth/clients', CLIENTS_API],
  ['GET /api/v2/audits', AUDITS_API],
  ['idle timeout and HIPAA settings', SETTINGS_API],
  ['presence, routing status, interactions', STATUS_API],
  ['notification channels', NOTIFICATIONS_API],
  ['unknown routes', UNKNOWN_ROUTES],
];

describe('bad input: 4xx with a clear message on every route, never a 5xx', () => {
  let server: TestServer;
  let ctx: Ctx;
  let before_: Record<'users' | 'groups' | 'clients' | 'timeout' | 'presence', unknown>;

  const api = async (path: string, token: string) => {
    const res = await fetch(server.url + path, { headers: bearer(token) });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return res.json();
  };

  before(async () => {
    server = await startTestServer();
    const url = server.url;
    const cc = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`automation:${DEMO_SECRET}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    assert.equal(cc.status, 200);
    const admin = ((await cc.json()) as { access_token: string }).access_token;

    const browser = new Browser();
    const { tokens } = await signIn(url, browser, { clientId: 'agent-desktop', redirectUri: REDIRECT }, { username: 'agent@demo.test', password: DEMO_PASSWORD });
    const info = (await (await fetch(`${url}/api/v2/tokens/me`, { headers: bearer(tokens.access_token) })).json()) as { user: { id: string } };

    const group = await fetch(`${url}/api/v2/groups`, {
      method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bad input target', memberIds: [info.user.id] }),
    });
    assert.equal(group.status, 201);

    ctx = {
      url, admin,
      agent: { access: tokens.access_token, refresh: tokens.refresh_token!, idToken: tokens.id_token!, userId: info.user.id },
      groupId: ((await group.json()) as { id: string }).id,
      channelId: ((await (await fetch(`${url}/api/v2/notifications/channels`, { method: 'POST', headers: bearer(tokens.access_token) })).json()) as { id: string }).id,
      async code(clientId = 'agent-desktop') {
        const { verifier, params } = await authorizeParams(clientId);
        const res = await browser.fetch(`${url}/oauth/authorize${q(params)}`);
        assert.equal(res.status, 303, 'the sign-in session answers with a code');
        const code = new URL(res.headers.get('location')!).searchParams.get('code');
        assert.ok(code);
        return { code, verifier, redirectUri: REDIRECT };
      },
    };
    before_ = {
      users: await api('/api/v2/users', admin), groups: await api('/api/v2/groups', admin), clients: await api('/api/v2/oauth/clients', admin),
      timeout: await api('/api/v2/tokens/timeout', admin), presence: await api(`/api/v2/users/${info.user.id}/presences/purecloud`, admin),
    };
  });
  after(() => server.stop());
  const login = async () =>
    (await signIn(server.url, new Browser(), { clientId: 'desktop-app', redirectUri: REDIRECT }, { username: 'agent2@demo.test', password: DEMO_PASSWORD })).tokens.access_token;

  for (const [route, cases] of TABLE) {
    describe(route, () => {
      for (const k of cases) {
        test(`${k.name} → ${k.status}`, async () => {
          const r = await k.request(ctx);
          await check(await send(ctx, r), k);
        });
      }
    });
  }

  test('a JSON content type with an empty body is no body (the Genesys SDK sends one on every call); each error has its own contextId', async () => {
    const bodyless = await login();
    const channel = await fetch(`${server.url}/api/v2/notifications/channels`, { method: 'POST', headers: { ...bearer(bodyless), 'content-type': 'application/json' } });
    assert.equal(channel.status, 200, await channel.clone().text());
    const logout = await fetch(`${server.url}${me}`, { method: 'DELETE', headers: { ...bearer(bodyless), 'content-type': 'application/json' } });
    assert.equal(logout.status, 204);
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await (await fetch(`${server.url}${me}`, { headers: bearer(bodyless) })).json()).contextId);
    assert.equal(ids.size, 3, 'one id per request');
  });

  test('afterwards: the server still answers, and no bad request changed anything', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    // The agent's token survived every bad DELETE /tokens/me, revoke and introspect above.
    assert.equal((await fetch(`${server.url}${me}`, { method: 'HEAD', headers: bearer(ctx.agent.access) })).status, 200);
    // Its refresh token too (refused refreshes neither rotated nor revoked it).
    const refreshed = await fetch(`${server.url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'agent-desktop', refresh_token: ctx.agent.refresh }),
    });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());

    assert.deepEqual(await api('/api/v2/users', ctx.admin), before_.users);
    assert.deepEqual(await api('/api/v2/groups', ctx.admin), before_.groups);
    assert.deepEqual(await api('/api/v2/oauth/clients', ctx.admin), before_.clients);
    assert.deepEqual(await api('/api/v2/tokens/timeout', ctx.admin), before_.timeout);
    assert.deepEqual((await api('/api/v2/organizations/me', ctx.admin)).features, { hipaa: false });
    assert.deepEqual(await api('/api/v2/organizations/authentication/settings', ctx.admin), { universalLogout: false, inactivityTimeoutExclusions: [] });
    assert.deepEqual(await api(`/api/v2/users/${ctx.agent.userId}/presences/purecloud`, ctx.admin), before_.presence);

    // The login form still works after the failed attempts (one wrong password, well under the throttle).
    const again = await signIn(server.url, new Browser(), { clientId: 'crm-embedded', redirectUri: REDIRECT }, { username: 'agent2@demo.test', password: DEMO_PASSWORD });
    assert.equal(again.passwordPrompted, true);
  });
});
