import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { changeSettings } from '../../authority/settings-change.ts';
import { NotFound } from '../../core/errors.ts';
import { checkHipaaCanBeEnabled } from '../../core/idle-policy.ts';
import { compilePathPattern } from '../../core/path-pattern.ts';
import type { OrgSettings } from '../../core/records.ts';
import { requireRole } from '../auth-guard.ts';
import { apiErrors } from '../schemas.ts';

const Exclusions = Type.Array(Type.String({ maxLength: 200 }), {
  maxItems: 100, uniqueItems: true,
  description: 'Calls to these paths are not activity: `*` matches within one segment, a trailing `/**` everything below',
});
/** Genesys Cloud's `OrgAuthSettings`: the fields Lockstep has. */
const OrgAuthSettings = Type.Object({ universalLogout: Type.Boolean(), inactivityTimeoutExclusions: Exclusions }, {
  examples: [{ universalLogout: true, inactivityTimeoutExclusions: ['/api/v2/presence/definitions', '/api/v2/users/*/routingstatus'] }],
});
const OrgAuthSettingsPatch = Type.Partial(Type.Object(OrgAuthSettings.properties), {
  additionalProperties: false, minProperties: 1, examples: [{ universalLogout: true }, { inactivityTimeoutExclusions: ['/api/v2/analytics/**'] }],
});
/** Genesys Cloud's `FeatureState` in, `OrganizationFeatures` out. */
const FeatureState = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false, examples: [{ enabled: true }] });
const OrganizationFeatures = Type.Object({ hipaa: Type.Boolean() });
const FeatureParams = Type.Object({ featureName: Type.String({ minLength: 1, maxLength: 64 }) });

const authSettingsView = (s: OrgSettings) => ({ universalLogout: s.universalLogout, inactivityTimeoutExclusions: s.inactivityTimeoutExclusions });

export function orgSettingsRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/organizations/authentication/settings', { schema: { tags: ['Organization'], summary: 'Get the authentication settings (universal logout, activity exclusions)', response: { 200: OrgAuthSettings, ...apiErrors } } },
    async (request) => authSettingsView(await a.settings.get(request.auth.orgId)));

  api.patch<{ Body: Static<typeof OrgAuthSettingsPatch> }>('/api/v2/organizations/authentication/settings',
    { preHandler: requireRole(a, 'admin'), schema: { tags: ['Organization'], summary: 'Change the authentication settings (admin)', body: OrgAuthSettingsPatch, response: { 200: OrgAuthSettings, ...apiErrors } } },
    async function setAuthenticationSettings(request) {
      const { universalLogout, inactivityTimeoutExclusions } = request.body;
      inactivityTimeoutExclusions?.forEach(compilePathPattern);
      const current = await a.settings.get(request.auth.orgId);
      const next = {
        ...current,
        universalLogout: universalLogout ?? current.universalLogout,
        inactivityTimeoutExclusions: inactivityTimeoutExclusions ?? current.inactivityTimeoutExclusions,
      };
      await changeSettings(a, request.auth.orgId, request.auth, next, universalLogout === undefined ? 'inactivity_timeout_exclusions' : 'universal_logout');
      return authSettingsView(next);
    });

  // Lockstep has one organization feature, HIPAA: on, it caps the idle timeout at 15 minutes.
  api.patch<{ Params: Static<typeof FeatureParams>; Body: Static<typeof FeatureState> }>('/api/v2/organizations/features/:featureName',
    { preHandler: requireRole(a, 'admin'), schema: { tags: ['Organization'], summary: 'Turn an organization feature on or off (hipaa; admin)', params: FeatureParams, body: FeatureState, response: { 200: OrganizationFeatures, ...apiErrors } } },
    async function setFeature(request) {
      if (request.params.featureName !== 'hipaa') throw NotFound(`No organization feature ${request.params.featureName}; Lockstep has hipaa`);
      const { orgId } = request.auth;
      const current = await a.settings.get(orgId);
      if (request.body.enabled && !current.hipaa) checkHipaaCanBeEnabled(current.idle);
      await changeSettings(a, orgId, request.auth, { ...current, hipaa: request.body.enabled }, 'hipaa');
      return { hipaa: request.body.enabled };
    });
}
