import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { Forbidden } from '../../core/errors.ts';
import { ROUTING_STATUSES, SYSTEM_PRESENCES, type UserStatus } from '../../store/records.ts';
import { rolesOf } from '../auth-guard.ts';
import { apiErrors, IdParams, Iso, iso } from '../schemas.ts';
import { mustGetUser } from './users.ts';

const SystemPresence = Type.Union(SYSTEM_PRESENCES.map((p) => Type.Literal(p)));
const RoutingStatus = Type.Union(ROUTING_STATUSES.map((s) => Type.Literal(s)));
const PresenceBody = Type.Object({ presenceDefinition: Type.Object({ systemPresence: SystemPresence }) });
const PresenceView = Type.Object({ presenceDefinition: Type.Object({ systemPresence: SystemPresence }), modifiedDate: Iso });
const RoutingBody = Type.Object({ status: RoutingStatus });
const RoutingView = Type.Object({ userId: Type.String(), status: RoutingStatus, startTime: Iso });

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

const presenceView = (s: UserStatus) => ({ presenceDefinition: { systemPresence: s.presence }, modifiedDate: iso(s.presenceAt) });
const routingView = (s: UserStatus) => ({ userId: s.userId, status: s.routingStatus, startTime: iso(s.routingAt) });
type Id = { Params: Static<typeof IdParams> };

export function presenceRoutes(api: FastifyInstance, a: Authority) {
  api.get<Id>('/api/v2/users/:id/presence', { schema: { params: IdParams, response: { 200: PresenceView, ...apiErrors } } },
    async (request) => presenceView(await statusOf(a, request.auth.orgId, request.params.id)));

  api.patch<Id & { Body: Static<typeof PresenceBody> }>('/api/v2/users/:id/presence',
    { schema: { params: IdParams, body: PresenceBody, response: { 200: PresenceView, ...apiErrors } } },
    async (request) => presenceView(await changeStatus(a, request,
      (s, now) => ({ ...s, presence: request.body.presenceDefinition.systemPresence, presenceAt: now }))));

  api.get<Id>('/api/v2/users/:id/routingstatus', { schema: { params: IdParams, response: { 200: RoutingView, ...apiErrors } } },
    async (request) => routingView(await statusOf(a, request.auth.orgId, request.params.id)));

  api.put<Id & { Body: Static<typeof RoutingBody> }>('/api/v2/users/:id/routingstatus',
    { schema: { params: IdParams, body: RoutingBody, response: { 200: RoutingView, ...apiErrors } } },
    async (request) => routingView(await changeStatus(a, request, (s, now) => ({ ...s, routingStatus: request.body.status, routingAt: now }))));
}
