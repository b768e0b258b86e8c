import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { applyInteraction } from '../authority/interactions.ts';
import { NotFound } from '../core/errors.ts';
import { DEMO_ORG_ID } from '../seed/demo.ts';
import { InteractionBody as Body } from './api/interactions.ts';
import { authenticate } from './auth-guard.ts';
import { apiErrors, bearerAuth } from './schemas.ts';

const Params = Type.Object({ interactionId: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * Demo only (LOCKSTEP_DEMO): a stand-in for the contact-center platform, so the agent demo's
 * interaction panel can drive the interaction feed for its own user; and crm-backend's
 * back-channel logout receiver, which acknowledges and logs.
 */
export function demoRoutes(app: FastifyInstance, a: Authority) {
  app.register(async function demoPlatform(scope) {
    scope.addHook('onRequest', authenticate(a));
    scope.put<{ Params: Static<typeof Params>; Body: Static<typeof Body> }>('/demo/platform/interactions/:interactionId',
      { schema: { tags: ['Demo'], summary: "Demo platform: report an interaction of the caller's own user (demo org only)", security: bearerAuth, params: Params, body: Body, response: { 200: Type.Object({ idleTimeoutExempt: Type.Boolean() }), ...apiErrors } } },
      async function demoInteraction(request) {
        const { userId, orgId } = request.auth;
        // A stand-in for the demo org's platform only: in any other org it would let users exempt themselves.
        if (orgId !== DEMO_ORG_ID) throw NotFound('The demo platform serves the demo organization only');
        if (!userId) return { idleTimeoutExempt: false };
        return { idleTimeoutExempt: await applyInteraction(a, { type: request.body.type, state: request.body.state, orgId, userId, id: request.params.interactionId }) };
      });
  });

  app.post('/demo/crm-backend/backchannel-logout', { schema: { tags: ['Demo'], summary: "Demo crm-backend's back-channel logout receiver (acknowledges and logs)", body: Type.Object({ logout_token: Type.String({ maxLength: 8192 }) }), response: { 200: Type.Null({ description: 'Acknowledged' }), ...apiErrors } } },
    async (request, reply) => {
      request.log.info('demo crm-backend received a back-channel logout token');
      return reply.code(200).send();
    });
}
