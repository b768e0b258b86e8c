import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Authority } from '../../authority/authority.ts';
import { BadRequest, NotFound } from '../../core/errors.ts';
import type { Group } from '../../store/records.ts';
import { apiErrors, Entities, IdParams, Iso, iso, NoContent } from '../schemas.ts';

const MemberIds = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { uniqueItems: true, maxItems: 10_000 });
const GroupFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000 }),
  memberIds: MemberIds,
};
const NewGroup = Type.Object({ name: GroupFields.name, description: Type.Optional(GroupFields.description), memberIds: Type.Optional(MemberIds) }, { additionalProperties: false });
const GroupPatch = Type.Partial(Type.Object(GroupFields), { additionalProperties: false, minProperties: 1 });
const Members = Type.Object({ memberIds: MemberIds }, { additionalProperties: false });
const GroupView = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String(), memberIds: MemberIds, createdAt: Iso });

const groupView = (g: Group) => ({ id: g.id, name: g.name, description: g.description, memberIds: g.memberIds, createdAt: iso(g.createdAt) });

/** Members must be users of the same org; naming another org's user is the same as naming nobody. */
async function checkMembers(a: Authority, orgId: string, ids: string[]) {
  const known = new Set((await a.store.listUsers(orgId)).map((u) => u.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw BadRequest(`Unknown user ids in memberIds: ${unknown.slice(0, 10).join(', ')}`);
}

async function mustGetGroup(a: Authority, orgId: string, id: string) {
  const group = await a.store.getGroup(orgId, id);
  if (!group) throw NotFound(`No group ${id} in this organization`);
  return group;
}

export function groupRoutes(admin: FastifyInstance, a: Authority) {
  admin.get('/api/v2/groups', { schema: { response: { 200: Entities(GroupView), ...apiErrors } } }, async (request) => {
    const groups = await a.store.listGroups(request.auth.orgId);
    return { entities: groups.map(groupView), total: groups.length };
  });

  admin.post<{ Body: Static<typeof NewGroup> }>('/api/v2/groups', { schema: { body: NewGroup, response: { 201: GroupView, ...apiErrors } } },
    async function createGroup(request, reply) {
      const { orgId } = request.auth;
      const memberIds = request.body.memberIds ?? [];
      await checkMembers(a, orgId, memberIds);
      const group: Group = { id: randomUUID(), orgId, name: request.body.name, description: request.body.description ?? '', memberIds, createdAt: a.clock.now() };
      await a.store.createGroup(group);
      return reply.code(201).send(groupView(group));
    });

  admin.get<{ Params: { id: string } }>('/api/v2/groups/:id', { schema: { params: IdParams, response: { 200: GroupView, ...apiErrors } } },
    async (request) => groupView(await mustGetGroup(a, request.auth.orgId, request.params.id)));

  admin.patch<{ Params: { id: string }; Body: Static<typeof GroupPatch> }>('/api/v2/groups/:id',
    { schema: { params: IdParams, body: GroupPatch, response: { 200: GroupView, ...apiErrors } } },
    async function updateGroup(request) {
      const group = await mustGetGroup(a, request.auth.orgId, request.params.id);
      if (request.body.memberIds) await checkMembers(a, group.orgId, request.body.memberIds);
      const next = { ...group, ...request.body };
      await a.store.updateGroup(next);
      return groupView(next);
    });

  admin.put<{ Params: { id: string }; Body: Static<typeof Members> }>('/api/v2/groups/:id/members',
    { schema: { params: IdParams, body: Members, response: { 200: GroupView, ...apiErrors } } },
    async function setMembers(request) {
      const group = await mustGetGroup(a, request.auth.orgId, request.params.id);
      await checkMembers(a, group.orgId, request.body.memberIds);
      const next = { ...group, memberIds: request.body.memberIds };
      await a.store.updateGroup(next);
      return groupView(next);
    });

  admin.delete<{ Params: { id: string } }>('/api/v2/groups/:id', { schema: { params: IdParams, response: { 204: NoContent, ...apiErrors } } },
    async (request, reply) => {
      if (!(await a.store.deleteGroup(request.auth.orgId, request.params.id))) throw NotFound(`No group ${request.params.id} in this organization`);
      return reply.code(204).send();
    });
}
