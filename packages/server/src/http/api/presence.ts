import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { BadRequest, Forbidden, NotFound } from '../../core/errors.ts';
import { PRESENCE_DEFINITIONS, presenceDefinitionId, systemPresenceOf } from '../../core/presence-definitions.ts';
import { ROUTING_STATUSES, SYSTEM_PRESENCES, type SystemPresence, type UserStatus } from '../../core/records.ts';
import { rolesOf } from '../auth-guard.ts';
import { apiErrors, IdParams, Iso, iso } from '../schemas.ts';
import { mustGetUser } from './users.ts';

const SystemPresenceName = Type.Union(SYSTEM_PRESENCES.map((p) => Type.Literal(p)));
const RoutingStatus = Type.Union(ROUTING_STATUSES.map((s) => Type.Literal(s)));
const DefinitionId = Type.String({ minLength: 1, maxLength: 64 });
/** Genesys Cloud's `OrganizationPresenceDefinition`. */
const Definition = Type.Object({
  id: Type.String(), type: Type.Literal('System'), languageLabels: Type.Record(Type.String(), Type.String()),
  systemPresence: SystemPresenceName, deactivated: Type.Boolean(), selfUri: Type.String(),
});
const Definitions = Type.Object({ entities: Type.Array(Definition), total: Type.Integer(), selfUri: Type.String() });
const DefinitionsQuery = Type.Object({
  deactivated: Type.Optional(Type.String({ maxLength: 5 })), localeCode: Type.Optional(Type.String({ maxLength: 16 })),
  divisionId: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Array(Type.String({ maxLength: 128 }), { maxItems: 50 })])),
}, { description: 'Accepted for the SDK; Lockstep has system presences only, in en_US, in no division' });
const PresenceSource = Type.Object({ ...IdParams.properties, sourceId: Type.String({ minLength: 1, maxLength: 64 }) });
/** Genesys Cloud's `UserPresence`, set by presence definition id. */
const UserPresenceBody = Type.Object({
  presenceDefinition: Type.Object({ id: DefinitionId, systemPresence: Type.Optional(Type.String({ maxLength: 32 })), selfUri: Type.Optional(Type.String({ maxLength: 512 })) }),
  source: Type.Optional(Type.String({ maxLength: 64 })), primary: Type.Optional(Type.Boolean()), message: Type.Optional(Type.String({ maxLength: 512 })),
});
const UserPresence = Type.Object({
  source: Type.Literal('PURECLOUD'), primary: Type.Boolean(),
  presenceDefinition: Type.Object({ id: Type.String(), systemPresence: SystemPresenceName, selfUri: Type.String() }),
  modifiedDate: Iso, selfUri: Type.String(),
});
const RoutingBody = Type.Object({ status: RoutingStatus });
const RoutingView = Type.Object({ userId: Type.String(), status: RoutingStatus, startTime: Iso });

const definitionUri = (id: string) => `/api/v2/presence/definitions/${id}`;
const definitionView = (d: (typeof PRESENCE_DEFINITIONS)[number]) => ({
  id: d.id, type: 'System' as const, languageLabels: { en_US: d.systemPresence }, systemPresence: d.systemPresence, deactivated: false, selfUri: definitionUri(d.id),
});
const DEFINITIONS = { entities: PRESENCE_DEFINITIONS.map(definitionView), total: PRESENCE_DEFINITIONS.length, selfUri: '/api/v2/presence/definitions' };

/** Users change their own status; admins and supervisors anyone's in the org. */
async function mayChange(a: Authority, request: FastifyRequest, userId: string) {
  if (request.auth.userId === userId) return;
  const roles = await rolesOf(a, request.auth);
  if (!roles.includes('admin') && !roles.includes('supervisor')) throw Forbidden("Changing another user's status requires the admin or supervisor role");
}

async function statusOf(a: Authority, orgId: string, userId: string): Promise<UserStatus> {
  await mustGetUser(a, orgId, userId);
  return (await a.store.getUserStatus(orgId, userId)) ?? { userId, orgId, presence: 'Offline', presenceAt: 0, routingStatus: 'OFF_QUEUE', routingAt: 0 };
}

/** Presence and routing status change the same way: who may, the current status, the change, stored and pushed. */
async function changeStatus(a: Authority, request: FastifyRequest<Id>, change: (current: UserStatus, now: number) => UserStatus): Promise<UserStatus> {
  await mayChange(a, request, request.params.id);
  const now = a.clock.now();
  const next = change(await statusOf(a, request.auth.orgId, request.params.id), now);
  await a.store.saveUserStatus(next);
  await a.bus.publish({ type: 'presence.changed', orgId: next.orgId, userId: next.userId, presence: next.presence, routingStatus: next.routingStatus, at: now });
  return next;
}

/** Going On Queue makes an off-queue agent routable (IDLE); any other presence takes the agent off queue, as in Genesys Cloud. */
function withPresence(s: UserStatus, presence: SystemPresence, now: number): UserStatus {
  const routingStatus = presence !== 'On Queue' ? 'OFF_QUEUE' : s.routingStatus === 'OFF_QUEUE' ? 'IDLE' : s.routingStatus;
  return { ...s, presence, presenceAt: now, ...(routingStatus !== s.routingStatus && { routingStatus, routingAt: now }) };
}

function definitionNamed(body: Static<typeof UserPresenceBody>): SystemPresence {
  const { id, systemPresence } = body.presenceDefinition;
  const presence = systemPresenceOf(id);
  if (!presence) throw BadRequest(`Unknown presence definition id ${id}; GET /api/v2/presence/definitions lists them`);
  if (systemPresence !== undefined && systemPresence.toLowerCase() !== presence.toLowerCase()) {
    throw BadRequest(`Presence definition ${id} is ${presence}, not ${systemPresence}`);
  }
  return presence;
}

function checkSource(sourceId: string) {
  if (sourceId.toLowerCase() !== 'purecloud') throw NotFound(`No presence source ${sourceId}; Lockstep has purecloud`);
}

const presenceView = (s: UserStatus) => {
  const id = presenceDefinitionId(s.presence);
  return {
    source: 'PURECLOUD' as const, primary: true, presenceDefinition: { id, systemPresence: s.presence, selfUri: definitionUri(id) },
    modifiedDate: iso(s.presenceAt), selfUri: `/api/v2/users/${s.userId}/presences/purecloud`,
  };
};
const routingView = (s: UserStatus) => ({ userId: s.userId, status: s.routingStatus, startTime: iso(s.routingAt) });
type Id = { Params: Static<typeof IdParams> };
type Source = { Params: Static<typeof PresenceSource> };

export function presenceRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/presence/definitions', { schema: { tags: ['Presence'], summary: 'List the presence definitions (system presences)', querystring: DefinitionsQuery, response: { 200: Definitions, ...apiErrors } } }, async () => DEFINITIONS);

  api.get<{ Params: { definitionId: string } }>('/api/v2/presence/definitions/:definitionId',
    { schema: { tags: ['Presence'], summary: 'Get a presence definition', params: Type.Object({ definitionId: DefinitionId }), response: { 200: Definition, ...apiErrors } } },
    async (request) => {
      const found = DEFINITIONS.entities.find((d) => d.id === request.params.definitionId.toLowerCase());
      if (!found) throw NotFound(`No presence definition ${request.params.definitionId}`);
      return found;
    });

  api.get<Source>('/api/v2/users/:id/presences/:sourceId', { schema: { tags: ['Presence'], summary: "Get a user's presence", params: PresenceSource, response: { 200: UserPresence, ...apiErrors } } },
    async (request) => {
      checkSource(request.params.sourceId);
      return presenceView(await statusOf(a, request.auth.orgId, request.params.id));
    });

  api.patch<Source & { Body: Static<typeof UserPresenceBody> }>('/api/v2/users/:id/presences/:sourceId',
    { schema: { tags: ['Presence'], summary: "Set a user's presence by definition id", params: PresenceSource, body: UserPresenceBody, response: { 200: UserPresence, ...apiErrors } } },
    async (request) => {
      checkSource(request.params.sourceId);
      const presence = definitionNamed(request.body);
      return presenceView(await changeStatus(a, request, (s, now) => withPresence(s, presence, now)));
    });

  api.get<Id>('/api/v2/users/:id/routingstatus', { schema: { tags: ['Presence'], summary: "Get a user's routing status", params: IdParams, response: { 200: RoutingView, ...apiErrors } } },
    async (request) => routingView(await statusOf(a, request.auth.orgId, request.params.id)));

  api.put<Id & { Body: Static<typeof RoutingBody> }>('/api/v2/users/:id/routingstatus',
    { schema: { tags: ['Presence'], summary: "Set a user's routing status", params: IdParams, body: RoutingBody, response: { 200: RoutingView, ...apiErrors } } },
    async (request) => routingView(await changeStatus(a, request, (s, now) => ({ ...s, routingStatus: request.body.status, routingAt: now }))));
}
