import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { changeSettings } from '../../authority/settings-change.ts';
import { checkHipaaCanBeEnabled, checkIdleSettings, IDLE_TIMEOUT_MAX_SECONDS } from '../../core/idle-policy.ts';
import type { IdleTimeoutSettings } from '../../store/records.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors } from '../schemas.ts';

const Seconds = Type.Integer({ minimum: 1, maximum: IDLE_TIMEOUT_MAX_SECONDS, description: 'from the floor (300 s) to 28,800 s; at most 900 s while HIPAA is on' });
const Bundle = Type.Object({
  priority: Type.Integer({ minimum: 1, maximum: 5 }),
  timeoutSeconds: Seconds,
  groups: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
}, { additionalProperties: false });
const IdleSettingsBody = Type.Object({
  enableIdleTokenTimeout: Type.Boolean(),
  idleTokenTimeoutSeconds: Seconds,
  inactivityTimeoutGroupsEnabled: Type.Optional(Type.Boolean()),
  inactivityTimeoutGroupBundles: Type.Optional(Type.Array(Bundle, { maxItems: 5 })),
  excludedPaths: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100, uniqueItems: true })),
}, { additionalProperties: false });
const IdleSettingsView = Type.Object({
  enableIdleTokenTimeout: Type.Boolean(),
  idleTokenTimeoutSeconds: Type.Integer(),
  inactivityTimeoutGroupsEnabled: Type.Boolean(),
  inactivityTimeoutGroupBundles: Type.Array(Bundle),
  excludedPaths: Type.Array(Type.String()),
});
const Hipaa = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

export function idleSettingsRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/tokens/timeout', { schema: { response: { 200: IdleSettingsView, ...apiErrors } } },
    async (request) => (await a.settings.get(request.auth.orgId)).idle);

  api.put<{ Body: Static<typeof IdleSettingsBody> }>('/api/v2/tokens/timeout',
    { preHandler: requireRole(a, 'admin'), schema: { body: IdleSettingsBody, response: { 200: IdleSettingsView, ...apiErrors } } },
    async function setIdleTimeout(request) {
      const { orgId } = request.auth;
      const current = await a.settings.get(orgId);
      const b = request.body;
      const idle: IdleTimeoutSettings = {
        enableIdleTokenTimeout: b.enableIdleTokenTimeout,
        idleTokenTimeoutSeconds: b.idleTokenTimeoutSeconds,
        inactivityTimeoutGroupsEnabled: b.inactivityTimeoutGroupsEnabled ?? current.idle.inactivityTimeoutGroupsEnabled,
        inactivityTimeoutGroupBundles: b.inactivityTimeoutGroupBundles ?? current.idle.inactivityTimeoutGroupBundles,
        excludedPaths: b.excludedPaths ?? current.idle.excludedPaths,
      };
      checkIdleSettings(idle, { hipaa: current.hipaaEnabled, floorSeconds: a.config.idleTimeoutFloorSeconds });
      await changeSettings(a, orgId, request.auth, { ...current, idle }, 'idle_timeout');
      return idle;
    });

  api.get('/api/v2/organizations/features/hipaa', { schema: { response: { 200: Hipaa, ...apiErrors } } },
    async (request) => ({ enabled: (await a.settings.get(request.auth.orgId)).hipaaEnabled }));

  api.patch<{ Body: Static<typeof Hipaa> }>('/api/v2/organizations/features/hipaa',
    { preHandler: requireRole(a, 'admin'), schema: { body: Hipaa, response: { 200: Hipaa, ...apiErrors } } },
    async function setHipaa(request) {
      const { orgId } = request.auth;
      const current = await a.settings.get(orgId);
      if (request.body.enabled && !current.hipaaEnabled) checkHipaaCanBeEnabled(current.idle);
      await changeSettings(a, orgId, request.auth, { ...current, hipaaEnabled: request.body.enabled }, 'hipaa');
      return { enabled: request.body.enabled };
    });
}
