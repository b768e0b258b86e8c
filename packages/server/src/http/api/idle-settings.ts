import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { changeSettings } from '../../authority/settings-change.ts';
import { checkIdleSettings, IDLE_TIMEOUT_MAX_SECONDS } from '../../core/idle-policy.ts';
import { TIMEOUT_UNITS, type IdleTimeoutSettings } from '../../core/records.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors } from '../schemas.ts';

const Seconds = Type.Integer({ minimum: 1, maximum: IDLE_TIMEOUT_MAX_SECONDS, description: 'from the floor (300 s) to 28,800 s; at most 900 s while HIPAA is on' });
const Unit = Type.Union(TIMEOUT_UNITS.map((u) => Type.Literal(u)), { description: 'The unit the timeout is shown in; the seconds are the truth' });
const bundleFields = {
  priority: Type.Integer({ minimum: 1, maximum: 5 }),
  timeoutSeconds: Seconds,
  groups: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
};
const BundleIn = Type.Object({ ...bundleFields, inactivityTimeoutUnit: Type.Optional(Unit) }, { additionalProperties: false });
const Bundle = Type.Object({ ...bundleFields, inactivityTimeoutUnit: Unit });
/** Genesys Cloud's `IdleTokenTimeout`; on PUT every field is optional and a missing one keeps its value. */
const IdleTokenTimeout = Type.Object({
  enableIdleTokenTimeout: Type.Boolean(),
  idleTokenTimeoutSeconds: Type.Integer(),
  inactivityTimeoutUnit: Unit,
  inactivityTimeoutGroupsEnabled: Type.Boolean(),
  inactivityTimeoutGroupBundles: Type.Array(Bundle),
}, {
  examples: [{
    enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 1800, inactivityTimeoutUnit: 'MINUTES', inactivityTimeoutGroupsEnabled: true,
    inactivityTimeoutGroupBundles: [{ priority: 1, timeoutSeconds: 900, groups: ['5c1e9a4e-2b7f-4d38-9f0e-6f3d2a1b7c90'], inactivityTimeoutUnit: 'MINUTES' }],
  }],
});
const IdleTokenTimeoutPut = Type.Object({
  enableIdleTokenTimeout: Type.Optional(Type.Boolean()),
  idleTokenTimeoutSeconds: Type.Optional(Seconds),
  inactivityTimeoutUnit: Type.Optional(Unit),
  inactivityTimeoutGroupsEnabled: Type.Optional(Type.Boolean()),
  inactivityTimeoutGroupBundles: Type.Optional(Type.Array(BundleIn, { maxItems: 5 })),
}, {
  additionalProperties: false, minProperties: 1,
  examples: [{ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 1800, inactivityTimeoutUnit: 'MINUTES' }, { enableIdleTokenTimeout: false }],
});

export function idleSettingsRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/tokens/timeout', { schema: { tags: ['Tokens'], summary: 'Get the idle token timeout', response: { 200: IdleTokenTimeout, ...apiErrors } } },
    async (request) => (await a.settings.get(request.auth.orgId)).idle);

  api.put<{ Body: Static<typeof IdleTokenTimeoutPut> }>('/api/v2/tokens/timeout',
    { preHandler: requireRole(a, 'admin'), schema: { tags: ['Tokens'], summary: 'Change the idle token timeout (admin; missing fields keep their value)', body: IdleTokenTimeoutPut, response: { 200: IdleTokenTimeout, ...apiErrors } } },
    async function setIdleTimeout(request) {
      const { orgId } = request.auth;
      const current = await a.settings.get(orgId);
      const { inactivityTimeoutGroupBundles: bundles, ...fields } = request.body;
      const unit = fields.inactivityTimeoutUnit ?? current.idle.inactivityTimeoutUnit;
      const idle: IdleTimeoutSettings = {
        ...current.idle,
        ...fields,
        ...(bundles && { inactivityTimeoutGroupBundles: bundles.map((b) => ({ inactivityTimeoutUnit: unit, ...b })) }),
      };
      checkIdleSettings(idle, { hipaa: current.hipaa, floorSeconds: a.config.idleTimeoutFloorSeconds });
      await changeSettings(a, orgId, request.auth, { ...current, idle }, 'idle_timeout');
      return idle;
    });
}
