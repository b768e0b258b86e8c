import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { idleExpiresAt, judgeToken } from '../../core/live-token.ts';
import { apiErrors, IdParams, Iso, iso, page, PageQuery, Paged, type PageRequest } from '../schemas.ts';
import { mustGetUser } from './users.ts';

const LiveTokenView = Type.Object({
  id: Type.String(), clientId: Type.String(), issuedAt: Iso, lastActivityAt: Iso, expiresAt: Iso,
  idleExpiresAt: Type.Union([Iso, Type.Null()]), channels: Type.Integer(),
});

/** An admin's view of a user's live tokens, per client (the console's Users page). Never the token itself. */
export function userTokenRoutes(admin: FastifyInstance, a: Authority) {
  admin.get<{ Params: Static<typeof IdParams>; Querystring: PageRequest }>('/api/v2/users/:id/tokens',
    { schema: { tags: ['Users'], summary: "A user's live tokens, per client (never the token itself)", params: IdParams, querystring: PageQuery, response: { 200: Paged(LiveTokenView), ...apiErrors } } },
    async function liveTokensOfUser(request) {
      const user = await mustGetUser(a, request.auth.orgId, request.params.id);
      const now = a.clock.now();
      // The store knows every node's tokens; this node's memory, the freshest activity of those it holds.
      const live = (await a.ledger.liveTokensOfUser(user)).filter((t) => judgeToken(t, now).live);
      return page(live, request.query, (t) => {
        const idle = idleExpiresAt(t);
        return {
          id: t.id, clientId: t.clientId, issuedAt: iso(t.issuedAt), lastActivityAt: iso(t.lastActivityAt), expiresAt: iso(t.expiresAt),
          idleExpiresAt: idle == null ? null : iso(idle), channels: a.hub.channelsOf(t.id).length,
        };
      });
    });
}
