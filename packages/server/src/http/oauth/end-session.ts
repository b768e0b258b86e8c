import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { userLogout } from '../../core/logout-policy.ts';
import { redirectUriMatches } from '../../core/redirect-uri.ts';
import { currentSignInSession, SESSION_COOKIE } from '../../authority/sign-in.ts';
import type { Client } from '../../core/records.ts';
import { sha256 } from '../../core/secrets.ts';
import { html, messagePage, page } from '../../web/html.ts';
import { FORM, HTML, Html, Redirect } from '../schemas.ts';

const short = Type.String({ maxLength: 4096 });
const confirm = Type.Optional(Type.String({ maxLength: 64, description: 'From the confirmation page: proves the form came from this origin' }));
const EndSessionQuery = Type.Object({
  id_token_hint: Type.Optional(Type.String({ maxLength: 4096, description: 'An ID token of this server', examples: ['eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln'] })),
  client_id: Type.Optional(Type.String({ maxLength: 4096, examples: ['agent-desktop'] })),
  post_logout_redirect_uri: Type.Optional(Type.String({ maxLength: 4096, description: 'A registered post-logout redirect URI', examples: ['http://127.0.0.1:8080/demo/agent'] })),
  state: Type.Optional(Type.String({ maxLength: 4096, examples: ['af0ifjsldkj'] })),
});
const EndSessionForm = Type.Object({ ...EndSessionQuery.properties, confirm });
type EndSessionQuery = Static<typeof EndSessionForm>;

/** What the Genesys Cloud SDK's `logout()` opens: `{login}/logout?client_id=…&redirect_uri=…`. */
const GenesysLogoutQuery = Type.Object({ client_id: Type.Optional(short), redirect_uri: Type.Optional(short) });
const GenesysLogoutForm = Type.Object({ ...GenesysLogoutQuery.properties, confirm });
type GenesysLogoutQuery = Static<typeof GenesysLogoutForm>;

interface LogoutRequest {
  idTokenHint?: string;
  clientId?: string;
  returnTo?: string;
  state?: string;
  /** The query parameter `returnTo` came in, and whether the client registered it. */
  returnToParam: 'post_logout_redirect_uri' | 'redirect_uri';
  registered: (client: Client, uri: string) => boolean;
  /** The fields to send again from the confirmation page. */
  fields: Record<string, string | undefined>;
  /** The POST of the confirmation page; undefined for a GET. */
  confirm?: string;
}

const bad = (reply: FastifyReply, message: string) => reply.code(400).type('text/html').send(messagePage('Cannot sign out', message));

/** The confirmation page's proof: derived from the session cookie, which another site can neither read nor guess. */
const confirmationOf = (cookie: string) => sha256(`logout-confirmation:${cookie}`);

/** A navigation from another site (a link, a form, a script): it must not sign the user out without asking. */
function fromAnotherSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

function confirmationPage(reply: FastifyReply, action: string, fields: Record<string, string | undefined>, proof: string) {
  const hidden = Object.entries({ ...fields, confirm: proof })
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return reply.type('text/html').send(page('Sign out?', html`<h1>Sign out?</h1>
<p>Another site asks to sign you out of Lockstep, in every application of this browser sign-in.</p>
<form method="post" action="${action}">${hidden}<button type="submit">Sign out</button></form>`));
}

/**
 * OpenID Connect RP-Initiated Logout (and Genesys Cloud's `/logout`): ends the browser's sign-in
 * session and the tokens the calling client holds through it (all of the user's with universal
 * logout on); redirects only to a URI registered for the client. Without an ID token proving the
 * client asks, a request from another site is confirmed by the user first (OIDC RP-Initiated Logout §2).
 */
export function endSessionRoutes(app: FastifyInstance, a: Authority) {
  const oidc = (q: EndSessionQuery): LogoutRequest => ({
    idTokenHint: q.id_token_hint, clientId: q.client_id, returnTo: q.post_logout_redirect_uri, state: q.state, confirm: q.confirm,
    returnToParam: 'post_logout_redirect_uri', registered: (c, uri) => c.postLogoutRedirectUris.includes(uri),
    fields: { id_token_hint: q.id_token_hint, client_id: q.client_id, post_logout_redirect_uri: q.post_logout_redirect_uri, state: q.state },
  });
  // Genesys Cloud's logout: the SDK sends the app back to one of the client's redirect URIs.
  const genesys = (q: GenesysLogoutQuery): LogoutRequest => ({
    clientId: q.client_id, returnTo: q.redirect_uri, returnToParam: 'redirect_uri', confirm: q.confirm,
    registered: (c, uri) => redirectUriMatches(c.redirectUris, uri, c.loopbackAnyPort) || c.postLogoutRedirectUris.includes(uri),
    fields: { client_id: q.client_id, redirect_uri: q.redirect_uri },
  });
  const response = { 200: Html, 303: Redirect('To the registered URI, with state'), 400: Html, 413: Html, 415: Html, 500: Html };

  app.get<{ Querystring: EndSessionQuery }>('/oauth/logout', { schema: { tags: ['Sign-in pages'], summary: 'RP-initiated logout (OIDC): id_token_hint or client_id, registered post_logout_redirect_uri', produces: HTML, querystring: EndSessionQuery, response } },
    (request, reply) => logout(request, reply, '/oauth/logout', oidc({ ...request.query, confirm: undefined })));
  app.post<{ Body: EndSessionQuery }>('/oauth/logout', { schema: { tags: ['Sign-in pages'], summary: 'RP-initiated logout, confirmed on the "Sign out?" page', consumes: FORM, produces: HTML, body: EndSessionForm, response } },
    (request, reply) => logout(request, reply, '/oauth/logout', oidc({ ...request.body, confirm: request.body.confirm ?? '' })));
  app.get<{ Querystring: GenesysLogoutQuery }>('/logout', { schema: { tags: ['Sign-in pages'], summary: "Genesys Cloud's logout (the SDK's logout()): client_id, redirect_uri", produces: HTML, querystring: GenesysLogoutQuery, response } },
    (request, reply) => logout(request, reply, '/logout', genesys({ ...request.query, confirm: undefined })));
  app.post<{ Body: GenesysLogoutQuery }>('/logout', { schema: { tags: ['Sign-in pages'], summary: 'Genesys Cloud\'s logout, confirmed on the "Sign out?" page', consumes: FORM, produces: HTML, body: GenesysLogoutForm, response } },
    (request, reply) => logout(request, reply, '/logout', genesys({ ...request.body, confirm: request.body.confirm ?? '' })));

  async function logout(request: FastifyRequest, reply: FastifyReply, path: string, q: LogoutRequest) {
    let hint: { sub?: string; aud?: string | string[]; sid?: unknown } | null = null;
    let hintExpired = true;
    if (q.idTokenHint) {
      try {
        ({ payload: hint, expired: hintExpired } = await a.keys.verifyIdToken(q.idTokenHint, a.issuer(), a.clock.now(), true));
      } catch {
        return bad(reply, 'The id_token_hint is not a valid ID token from this server.');
      }
    }
    const hintAud = Array.isArray(hint?.aud) ? hint.aud[0] : hint?.aud;
    if (q.clientId && hintAud && q.clientId !== hintAud) return bad(reply, 'client_id does not match the id_token_hint.');
    const clientId = q.clientId ?? hintAud;
    const client = clientId ? await a.store.getClient(clientId) : null;
    if (q.returnTo && (!client || !q.registered(client, q.returnTo))) {
      return bad(reply, `${q.returnToParam} is not registered for this application (send client_id${q.returnToParam === 'post_logout_redirect_uri' ? ' or id_token_hint' : ''}).`);
    }

    const cookie = request.cookies[SESSION_COOKIE];
    const current = await currentSignInSession(a, cookie);
    if (current && client && client.orgId !== current.user.orgId) return bad(reply, "This application belongs to another organization than the signed-in user's.");
    const ownSession = current && (!hint?.sub || hint.sub === current.user.id) ? current.session.id : null;
    // Without the browser's session, only a fresh ID token names a session to end: an old one could have leaked anywhere.
    const sessionId = ownSession ?? (!hintExpired && typeof hint?.sid === 'string' ? hint.sid : null);
    if (ownSession && !hint) {
      if (q.confirm !== undefined) {
        if (q.confirm !== confirmationOf(cookie!) || fromAnotherSite(request)) return bad(reply, 'This sign-out was not confirmed on this page; try again.');
      } else if (fromAnotherSite(request)) {
        return confirmationPage(reply, path, q.fields, confirmationOf(cookie!));
      }
    }
    const userId = ownSession ? current!.user.id : hint?.sub ?? null;
    const orgId = ownSession ? current!.user.orgId : client?.orgId;
    if (sessionId && orgId) {
      const own = { signInSessionId: sessionId, clientId: client?.id ?? '' };
      const { selection, reason } = userLogout(userId, own, (await a.settings.get(orgId)).universalLogout);
      await a.ledger.end(selection, { orgId, userId, reason, initiatingClientId: client?.id ?? null });
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (q.returnTo) {
      const url = new URL(q.returnTo);
      if (q.state) url.searchParams.set('state', q.state);
      return reply.redirect(url.toString(), 303);
    }
    return reply.type('text/html').send(messagePage('Signed out', 'You are signed out. You can close this window.'));
  }
}
