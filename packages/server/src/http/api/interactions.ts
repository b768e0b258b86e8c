import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { applyInteraction } from '../../authority/interactions.ts';
import { INTERACTION_STATES, INTERACTION_TYPES } from '../../core/records.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors, Iso, iso } from '../schemas.ts';
import { mustGetUser } from './users.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), interactionId: Type.String({ minLength: 1, maxLength: 128 }) });
export const InteractionBody = Type.Object({
  type: Type.Union(INTERACTION_TYPES.map((t) => Type.Literal(t))),
  state: Type.Union(INTERACTION_STATES.map((s) => Type.Literal(s))),
}, { additionalProperties: false });
const InteractionView = Type.Object({
  id: Type.String(), userId: Type.String(), type: Type.String(), state: Type.String(), updatedAt: Iso,
  idleTimeoutExempt: Type.Boolean({ description: 'Whether the user is now exempt from the idle timeout' }),
});

/** The interaction feed a contact-center platform sends; drives the idle-timeout exemption. */
export function interactionRoutes(api: FastifyInstance, a: Authority) {
  api.put<{ Params: Static<typeof Params>; Body: Static<typeof InteractionBody> }>('/api/v2/users/:id/interactions/:interactionId',
    { preHandler: requireRole(a, 'admin'), schema: { tags: ['Interactions'], summary: 'Report an interaction state (drives the idle-timeout exemption; admin)', params: Params, body: InteractionBody, response: { 200: InteractionView, ...apiErrors } } },
    async function interactionFeed(request) {
      const user = await mustGetUser(a, request.auth.orgId, request.params.id);
      const { type, state } = request.body;
      const exempt = await applyInteraction(a, { orgId: user.orgId, userId: user.id, id: request.params.interactionId, type, state });
      return { id: request.params.interactionId, userId: user.id, type, state, updatedAt: iso(a.clock.now()), idleTimeoutExempt: exempt };
    });
}
