import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { Authority } from '../../authority/authority.ts';
import { checkPassword, currentSignInSession, issueAuthCode, SESSION_COOKIE, startSignInSession } from '../../authority/sign-in.ts';
import { PKCE_VALUE } from '../../core/pkce.ts';
import { redirectUriMatches } from '../../core/redirect-uri.ts';
import { safeEqual } from '../../core/secrets.ts';
import type { Client, SignInSession, User } from '../../core/records.ts';
import { messagePage } from '../../web/html.ts';
import { loginPage } from '../../web/login-page.ts';
import { FORM, HTML, Html, Redirect } from '../schemas.ts';

const CSRF_COOKIE = 'lockstep_csrf';
const short = Type.String({ maxLength: 2048 });

const AuthorizeQuery = Type.Object({
  response_type: Type.Optional(short),
  client_id: Type.Optional(short),
  redirect_uri: Type.Optional(short),
  scope: Type.Optional(short),
  state: Type.Optional(short),
  nonce: Type.Optional(short),
  code_challenge: Type.Optional(short),
  code_challenge_method: Type.Optional(short),
  prompt: Type.Optional(short),
  max_age: Type.Optional(Type.String({ maxLength: 10, description: 'seconds: an older sign-in asks for the password again (OIDC Core 3.1.2.1)' })),
});
type AuthorizeQuery = Static<typeof AuthorizeQuery>;

const LoginForm = Type.Intersect([
  AuthorizeQuery,
  Type.Object({ csrf: Type.Optional(short), username: Type.Optional(short), password: Type.Optional(short) }),
]);
type LoginForm = Static<typeof LoginForm>;

const htmlResponses = {
  200: Html, 303: Redirect('To the redirect_uri with code (or error) and state, and iss'), 400: Html, 401: Html, 403: Html, 413: Html, 415: Html, 429: Html, 500: Html,
};

/** The password form is never framed by another site (clickjacking); an embedded client signs in through a popup instead. */
const NOT_FRAMED = { 'content-security-policy': "frame-ancestors 'self'", 'x-frame-options': 'SAMEORIGIN' };

/** A validated authorization request: the client and where its answer goes. */
interface Checked {
  client: Client;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  state?: string;
  nonce: string | null;
  prompt: Set<string>;
  /** Milliseconds; a sign-in older than this must be repeated. */
  maxAgeMs: number | null;
}

type Outcome = { ok: Checked } | { page: string; status: number } | { redirectError: [string, string, string?] };

/** RFC 6749 §4.1.2.1: errors about client or redirect URI are shown, never redirected. */
async function check(a: Authority, q: AuthorizeQuery): Promise<Outcome> {
  const client = q.client_id ? await a.store.getClient(q.client_id) : null;
  if (!client) return { page: messagePage('Unknown application', 'The client_id is missing or not registered.'), status: 400 };
  if (!q.redirect_uri || !redirectUriMatches(client.redirectUris, q.redirect_uri, client.loopbackAnyPort)) {
    return { page: messagePage('Invalid redirect URI', 'The redirect_uri is missing or not registered for this application.'), status: 400 };
  }
  const back = (error: string, description: string): Outcome => ({ redirectError: [q.redirect_uri!, error, description] });
  if (q.response_type !== 'code') return back('unsupported_response_type', 'response_type must be "code"');
  if (!client.grantTypes.includes('authorization_code')) return back('unauthorized_client', 'This client may not use the authorization code grant');
  if (!q.code_challenge) return back('invalid_request', 'code_challenge is required (PKCE)');
  if (q.code_challenge_method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256');
  if (!PKCE_VALUE.test(q.code_challenge)) return back('invalid_request', 'code_challenge is not a valid S256 challenge');
  if (q.max_age != null && !/^\d{1,9}$/.test(q.max_age)) return back('invalid_request', 'max_age must be a whole number of seconds');
  const prompt = new Set((q.prompt ?? '').split(' ').filter(Boolean));
  if (prompt.has('none') && prompt.size > 1) return back('invalid_request', 'prompt=none cannot be combined with other prompt values');
  return {
    ok: {
      client, redirectUri: q.redirect_uri, codeChallenge: q.code_challenge, scope: q.scope?.trim() || 'openid',
      state: q.state, nonce: q.nonce ?? null, prompt, maxAgeMs: q.max_age == null ? null : Number(q.max_age) * 1000,
    },
  };
}

function redirectTo(a: Authority, reply: FastifyReply, uri: string, params: Record<string, string | undefined>) {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v != null) url.searchParams.set(k, v);
  url.searchParams.set('iss', a.issuer());
  return reply.code(303).header('cache-control', 'no-store').redirect(url.toString(), 303);
}

function passThrough(q: AuthorizeQuery): Record<string, string> {
  const keep = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method'] as const;
  return Object.fromEntries(keep.flatMap((k) => (q[k] != null ? [[k, q[k]!]] : [])));
}

function csrfToken(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const existing = request.cookies[CSRF_COOKIE];
  if (existing) return existing;
  const token = randomBytes(24).toString('base64url');
  reply.setCookie(CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/oauth', secure });
  return token;
}

async function answerWithCode(a: Authority, reply: FastifyReply, c: Checked, session: SignInSession) {
  const code = await issueAuthCode(a, session, c);
  return redirectTo(a, reply, c.redirectUri, { code, state: c.state });
}

const wrongOrg = (c: Checked, user: User) => user.orgId !== c.client.orgId;

/** "1 second", "45 seconds", "3 minutes" (rounded up): how long a throttled sign-in must wait. */
function waitText(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

export function authorizeRoutes(app: FastifyInstance, a: Authority) {
  const secure = () => a.issuer().startsWith('https:');

  app.get<{ Querystring: AuthorizeQuery }>('/oauth/authorize', { schema: { tags: ['Sign-in pages'], summary: 'Authorization endpoint: code + PKCE S256; the login form without a sign-in session', produces: HTML, querystring: AuthorizeQuery, response: htmlResponses } },
    async function authorize(request, reply) {
      const outcome = await check(a, request.query);
      if ('page' in outcome) return reply.code(outcome.status).type('text/html').send(outcome.page);
      if ('redirectError' in outcome) {
        const [uri, error, description] = outcome.redirectError;
        return redirectTo(a, reply, uri, { error, error_description: description, state: request.query.state });
      }
      const c = outcome.ok;
      await a.ledger.sweep(); // an idle expiry due now may end the sign-in session (no silent undo)
      const current = c.prompt.has('login') ? null : await currentSignInSession(a, request.cookies[SESSION_COOKIE]);
      const fresh = current && (c.maxAgeMs == null || a.clock.now() - current.session.authTime <= c.maxAgeMs);
      if (current && fresh && !wrongOrg(c, current.user)) return answerWithCode(a, reply, c, current.session);
      if (c.prompt.has('none')) return redirectTo(a, reply, c.redirectUri, { error: 'login_required', state: c.state });
      const csrf = csrfToken(request, reply, secure());
      return reply.type('text/html').header('cache-control', 'no-store').headers(NOT_FRAMED)
        .send(loginPage({ clientName: c.client.name, params: passThrough(request.query), csrf }));
    });

  app.post<{ Body: LoginForm }>('/oauth/authorize', { schema: { tags: ['Sign-in pages'], summary: 'The login form: sign in and get redirected with a code', consumes: FORM, produces: HTML, body: LoginForm, response: htmlResponses } },
    async function signIn(request, reply) {
      const form = request.body;
      const outcome = await check(a, form);
      if ('page' in outcome) return reply.code(outcome.status).type('text/html').send(outcome.page);
      if ('redirectError' in outcome) {
        const [uri, error, description] = outcome.redirectError;
        return redirectTo(a, reply, uri, { error, error_description: description, state: form.state });
      }
      const c = outcome.ok;
      const cookieCsrf = request.cookies[CSRF_COOKIE];
      if (!cookieCsrf || !form.csrf || !safeEqual(cookieCsrf, form.csrf)) {
        return reply.code(403).type('text/html').send(messagePage('Sign-in expired', 'The sign-in form expired or was not sent from this site. Go back to the application and try again.'));
      }
      const again = (status: number, error: string) =>
        reply.code(status).type('text/html').headers(NOT_FRAMED).send(loginPage({ clientName: c.client.name, params: passThrough(form), csrf: cookieCsrf, username: form.username, error }));
      if (!form.username || !form.password) return again(400, 'Enter your email and password.');

      const result = await checkPassword(a, form.username, form.password, request.ip);
      if (!result.ok) {
        if (result.retryAfterMs) {
          // The same answer for every email, known or not; no password was checked.
          const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
          reply.header('retry-after', seconds);
          return again(429, `Too many sign-in attempts. Wait ${waitText(seconds)}, then try again.`);
        }
        return again(401, 'Incorrect email or password.');
      }
      if (wrongOrg(c, result.user)) return again(403, 'This account cannot sign in to this application.');
      const { cookie, session } = await startSignInSession(a, result.user, c.client.id);
      // Over HTTPS the sign-in session must reach Lockstep inside a cross-site iframe too (silent sign-in of an embedded client).
      reply.setCookie(SESSION_COOKIE, cookie, { httpOnly: true, path: '/', ...(secure() ? { sameSite: 'none', secure: true } : { sameSite: 'lax' }) });
      return answerWithCode(a, reply, c, session);
    });
}
