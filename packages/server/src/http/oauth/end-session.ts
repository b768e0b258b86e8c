import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { revokeAndAnnounce } from '../../authority/revoke.ts';
import { userLogout } from '../../core/logout-policy.ts';
import { currentSignInSession, SESSION_COOKIE } from '../../authority/sign-in.ts';
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

const bad = (reply: FastifyReply, message: string) => reply.code(400).type('text/html').send(messagePage('Cannot sign out', message));

/**
 * OpenID Connect RP-Initiated Logout: ends the browser's sign-in session and the tokens the
 * calling client holds through it; redirects only to a registered post_logout_redirect_uri.
 */
export function endSessionRoutes(app: FastifyInstance, a: Authority) {
  app.get<{ Querystring: EndSessionQuery }>('/oauth/logout', { schema: { querystring: EndSessionQuery, response: { 200: Html, 400: Html } } },
    async function endSession(request, reply) {
      const q = request.query;
      let hint: { sub?: string; aud?: string | string[]; sid?: unknown } | null = null;
      if (q.id_token_hint) {
        try {
          hint = await a.keys.verify(q.id_token_hint, a.issuer(), true);
        } catch {
          return bad(reply, 'The id_token_hint is not a valid ID token from this server.');
        }
      }
      const hintAud = Array.isArray(hint?.aud) ? hint.aud[0] : hint?.aud;
      if (q.client_id && hintAud && q.client_id !== hintAud) return bad(reply, 'client_id does not match the id_token_hint.');
      const clientId = q.client_id ?? hintAud;
      const client = clientId ? await a.store.getClient(clientId) : null;
      if (q.post_logout_redirect_uri && (!client || !client.postLogoutRedirectUris.includes(q.post_logout_redirect_uri))) {
        return bad(reply, 'post_logout_redirect_uri is not registered for this application (send client_id or id_token_hint).');
      }

      const current = await currentSignInSession(a, request.cookies[SESSION_COOKIE]);
      const sessionId = current && (!hint?.sub || hint.sub === current.user.id) ? current.session.id : typeof hint?.sid === 'string' ? hint.sid : null;
      const userId = current?.user.id ?? hint?.sub ?? null;
      const orgId = current?.user.orgId ?? client?.orgId;
      if (sessionId && orgId) {
        const own = { signInSessionId: sessionId, clientId: client?.id ?? '' };
        const { selection, reason } = userLogout(userId, own, (await a.settings.get(orgId)).universalLogoutEnabled);
        await revokeAndAnnounce(a, selection, { orgId, userId, reason, initiatingClientId: client?.id ?? null });
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      if (q.post_logout_redirect_uri) {
        const url = new URL(q.post_logout_redirect_uri);
        if (q.state) url.searchParams.set('state', q.state);
        return reply.redirect(url.toString(), 303);
      }
      return reply.type('text/html').send(messagePage('Signed out', 'You are signed out. You can close this window.'));
    });
}
