import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { revokeAndAnnounce } from '../../authority/revoke.ts';
import { userLogout } from '../../core/logout-policy.ts';
import { redirectUriMatches } from '../../core/redirect-uri.ts';
import { currentSignInSession, SESSION_COOKIE } from '../../authority/sign-in.ts';
import type { Client } from '../../store/records.ts';
import { messagePage } from '../../web/html.ts';
import { Html } from '../schemas.ts';

const short = Type.String({ maxLength: 4096 });
const EndSessionQuery = Type.Object({
  id_token_hint: Type.Optional(short),
  client_id: Type.Optional(short),
  post_logout_redirect_uri: Type.Optional(short),
  state: Type.Optional(short),
});
type EndSessionQuery = Static<typeof EndSessionQuery>;

/** What the Genesys Cloud SDK's `logout()` opens: `{login}/logout?client_id=…&redirect_uri=…`. */
const GenesysLogoutQuery = Type.Object({ client_id: Type.Optional(short), redirect_uri: Type.Optional(short) });
type GenesysLogoutQuery = Static<typeof GenesysLogoutQuery>;

interface LogoutRequest {
  idTokenHint?: string;
  clientId?: string;
  returnTo?: string;
  state?: string;
  /** The query parameter `returnTo` came in, and whether the client registered it. */
  returnToParam: 'post_logout_redirect_uri' | 'redirect_uri';
  registered: (client: Client, uri: string) => boolean;
}

const bad = (reply: FastifyReply, message: string) => reply.code(400).type('text/html').send(messagePage('Cannot sign out', message));

/**
 * OpenID Connect RP-Initiated Logout (and Genesys Cloud's `/logout`): ends the browser's sign-in
 * session and the tokens the calling client holds through it (all of the user's with universal
 * logout on); redirects only to a URI registered for the client.
 */
export function endSessionRoutes(app: FastifyInstance, a: Authority) {
  const schema = (querystring: typeof EndSessionQuery | typeof GenesysLogoutQuery) => ({ querystring, response: { 200: Html, 400: Html } });

  app.get<{ Querystring: EndSessionQuery }>('/oauth/logout', { schema: schema(EndSessionQuery) }, async function endSession(request, reply) {
    const q = request.query;
    return logout(request, reply, {
      idTokenHint: q.id_token_hint, clientId: q.client_id, returnTo: q.post_logout_redirect_uri, state: q.state,
      returnToParam: 'post_logout_redirect_uri', registered: (c, uri) => c.postLogoutRedirectUris.includes(uri),
    });
  });

  // Genesys Cloud's logout: the SDK sends the app back to one of the client's redirect URIs.
  app.get<{ Querystring: GenesysLogoutQuery }>('/logout', { schema: schema(GenesysLogoutQuery) }, async function genesysLogout(request, reply) {
    const q = request.query;
    return logout(request, reply, {
      clientId: q.client_id, returnTo: q.redirect_uri, returnToParam: 'redirect_uri',
      registered: (c, uri) => redirectUriMatches(c.redirectUris, uri) || c.postLogoutRedirectUris.includes(uri),
    });
  });

  async function logout(request: FastifyRequest, reply: FastifyReply, q: LogoutRequest) {
    let hint: { sub?: string; aud?: string | string[]; sid?: unknown } | null = null;
    if (q.idTokenHint) {
      try {
        hint = await a.keys.verify(q.idTokenHint, a.issuer(), true);
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

    const current = await currentSignInSession(a, request.cookies[SESSION_COOKIE]);
    const sessionId = current && (!hint?.sub || hint.sub === current.user.id) ? current.session.id : typeof hint?.sid === 'string' ? hint.sid : null;
    const userId = current?.user.id ?? hint?.sub ?? null;
    const orgId = current?.user.orgId ?? client?.orgId;
    if (sessionId && orgId) {
      const own = { signInSessionId: sessionId, clientId: client?.id ?? '' };
      const { selection, reason } = userLogout(userId, own, (await a.settings.get(orgId)).universalLogout);
      await revokeAndAnnounce(a, selection, { orgId, userId, reason, initiatingClientId: client?.id ?? null });
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
