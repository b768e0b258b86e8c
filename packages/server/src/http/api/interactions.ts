import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { INTERACTION_STATES, INTERACTION_TYPES } from '../../store/records.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors, Iso, iso } from '../schemas.ts';
import { mustGetUser } from './users.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), interactionId: Type.String({ minLength: 1, maxLength: 128 }) });
const InteractionBody = Type.Object({
  type: Type.Union(INTERACTION_TYPES.map((t) => Type.Literal(t))),
  state: Type.Union(INTERACTION_STATES.map((s) => Type.Literal(s))),
});
const InteractionView = Type.Object({
  id: Type.String(), userId: Type.String(), type: Type.String(), state: Type.String(), updatedAt: Iso,
  idleTimeoutExempt: Type.Boolean({ description: 'Whether the user is now exempt from the idle timeout' }),
});

/** The interaction feed a contact-center platform sends; drives the idle-timeout exemption. */
export function interactionRoutes(api: FastifyInstance, a: Authority) {
  api.put<{ Params: Static<typeof Params>; Body: Static<typeof InteractionBody> }>('/api/v2/users/:id/interactions/:interactionId',
    { preHandler: requireRole(a, 'admin'), schema: { params: Params, body: InteractionBody, response: { 200: InteractionView, ...apiErrors } } },
    async function interactionFeed(request) {
      const user = await mustGetUser(a, request.auth.orgId, request.params.id);
      const now = a.clock.now();
      const { type, state } = request.body;
      const interaction = { userId: user.id, id: request.params.interactionId, orgId: user.orgId, type, state, updatedAt: now };
      if (state === 'disconnected') await a.store.deleteInteraction(user.id, interaction.id);
      else await a.store.saveInteraction({ ...interaction, state });
      await a.idle.interactionChanged(interaction, now, (t, at) => a.activity.record(t, at));
      return { id: interaction.id, userId: user.id, type, state, updatedAt: iso(now), idleTimeoutExempt: a.idle.isExempt(user.id) };
    });
}
