import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { NotFound } from '../../core/errors.ts';
import { idleExpiresAt } from '../../core/live-token.ts';
import { userLogout } from '../../core/logout-policy.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors, Iso, iso, NoContent } from '../schemas.ts';

const NamedEntity = Type.Object({ id: Type.String(), name: Type.String() });
/** Genesys Cloud's `TokenInfo` plus Lockstep's `user`, `issuedAt`, `expiresAt` and `idleTimeoutSeconds`. */
const TokenInfo = Type.Object({
  organization: NamedEntity,
  homeOrganization: NamedEntity,
  authorizedScope: Type.Array(Type.String()),
  OAuthClient: Type.Object({
    id: Type.String(), name: Type.String(), authorizedGrantType: Type.Union([Type.Literal('CODE'), Type.Literal('CLIENT-CREDENTIALS')]), organization: NamedEntity,
  }),
  dateTokenIdles: Type.Optional(Type.String({ format: 'date-time', description: 'When the token idles out unless used; absent when no idle timeout applies' })),
  user: Type.Union([Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }), Type.Null()]),
  issuedAt: Iso,
  expiresAt: Iso,
  idleTimeoutSeconds: Type.Union([Type.Integer(), Type.Null()], { description: 'The idle timeout that applies to this token (null: none)' }),
});

const MeQuery = Type.Object({ preserveIdleTTL: Type.Optional(Type.Boolean({ description: 'true: this call does not count as activity' })) });
const UserIdParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128 }) });

export function tokenApiRoutes(api: FastifyInstance, a: Authority) {
  // An explicit zero length keeps the connection alive: this is the SDK's fallback heartbeat.
  api.head('/api/v2/tokens/me', { config: { swagger: { exposeHeadRoute: true } }, schema: { tags: ['Tokens'], summary: 'Whether this token is live (no body; preserveIdleTTL=true: not activity)', querystring: MeQuery, response: { 200: NoContent, ...apiErrors } } },
    async (_request, reply) => reply.code(200).header('content-length', 0).send());

  api.get('/api/v2/tokens/me', { exposeHeadRoute: false, schema: { tags: ['Tokens'], summary: 'This token: organization, client, user, idle deadline (TokenInfo)', querystring: MeQuery, response: { 200: TokenInfo, ...apiErrors } } },
    async function tokenInfo(request) {
      const { token } = request.auth;
      const [user, client, org] = await Promise.all([
        token.userId ? a.store.getUser(token.orgId, token.userId) : null,
        a.store.getClient(token.clientId),
        a.store.getOrg(token.orgId),
      ]);
      const idle = idleExpiresAt(token);
      const organization = { id: token.orgId, name: org?.name ?? '' };
      return {
        organization,
        homeOrganization: organization,
        authorizedScope: token.scope.split(' ').filter(Boolean),
        OAuthClient: {
          id: token.clientId, name: client?.name ?? token.clientId, authorizedGrantType: token.userId ? 'CODE' as const : 'CLIENT-CREDENTIALS' as const, organization,
        },
        ...(idle != null && { dateTokenIdles: iso(idle) }),
        user: user && { id: user.id, email: user.email, name: user.name },
        issuedAt: iso(token.issuedAt),
        expiresAt: iso(token.expiresAt),
        idleTimeoutSeconds: token.idleTimeoutMs == null ? null : Math.round(token.idleTimeoutMs / 1000),
      };
    });

  api.delete('/api/v2/tokens/me', { schema: { tags: ['Tokens'], summary: 'Log out: this client, or every client of the user with universal logout on',
    description: 'Ends this token (and every token of the user when universal logout is on: the other clients get v2.system.token_revoked and close code 4001). '
      + 'Example: `DELETE /api/v2/tokens/me` with `Authorization: Bearer <token>` answers 204; the next call with that token answers 401 code token.revoked, reason logout.',
    response: { 204: NoContent, ...apiErrors } } },
    async function logout(request, reply) {
      const { token } = request.auth;
      request.auth.endsOwnToken = true;
      const { selection, reason } = userLogout(token.userId, { grantId: token.grantId }, (await a.settings.get(token.orgId)).universalLogout);
      await a.ledger.end(selection, { orgId: token.orgId, userId: token.userId, reason, initiatingClientId: token.clientId });
      return reply.code(204).send();
    });

  const adminLogoffRoute = (summary: string) => ({
    preHandler: requireRole(a, 'admin'), schema: { tags: ['Tokens'], summary, params: UserIdParams, response: { 204: NoContent, ...apiErrors } },
  });
  api.delete<{ Params: { userId: string } }>('/api/v2/tokens/:userId', adminLogoffRoute("Log off a user everywhere (admin)"), adminLogoff);
  api.delete<{ Params: { userId: string } }>('/api/v2/apps/users/:userId/logout', adminLogoffRoute('Log off a user everywhere (admin; the apps/users name)'), adminLogoff);

  /** Administrative logoff: everything of the user, whatever the universal-logout setting. */
  async function adminLogoff(request: FastifyRequest<{ Params: { userId: string } }>, reply: FastifyReply) {
      const { orgId, userId: adminId, clientId } = request.auth;
      const user = await a.store.getUser(orgId, request.params.userId);
      if (!user) throw NotFound(`No user ${request.params.userId} in this organization`);
      if (user.id === adminId) request.auth.endsOwnToken = true;
      await a.ledger.end({ userId: user.id }, {
        orgId, userId: user.id, reason: 'admin_logoff', initiatingClientId: clientId, actor: { userId: adminId, clientId },
      });
      return reply.code(204).send();
  }
}
