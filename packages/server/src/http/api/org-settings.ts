import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { changeSettings } from '../../authority/settings-change.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors } from '../schemas.ts';

const AuthSettings = Type.Object({ universalLogoutEnabled: Type.Boolean() });
const AuthSettingsPatch = Type.Object({ universalLogoutEnabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 });

export function orgSettingsRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/organizations/authentication/settings', { schema: { response: { 200: AuthSettings, ...apiErrors } } },
    async (request) => ({ universalLogoutEnabled: (await a.settings.get(request.auth.orgId)).universalLogoutEnabled }));

  api.patch<{ Body: Static<typeof AuthSettingsPatch> }>('/api/v2/organizations/authentication/settings',
    { preHandler: requireRole(a, 'admin'), schema: { body: AuthSettingsPatch, response: { 200: AuthSettings, ...apiErrors } } },
    async function setAuthenticationSettings(request) {
      const current = await a.settings.get(request.auth.orgId);
      const next = { ...current, universalLogoutEnabled: request.body.universalLogoutEnabled ?? current.universalLogoutEnabled };
      await changeSettings(a, request.auth.orgId, request.auth, next, 'universal_logout');
      return { universalLogoutEnabled: next.universalLogoutEnabled };
    });
}
