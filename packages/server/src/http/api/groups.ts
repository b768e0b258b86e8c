import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { newId } from '../../core/ids.ts';
import type { Authority } from '../../authority/authority.ts';
import { BadRequest, NotFound } from '../../core/errors.ts';
import { GROUP_TYPES, GROUP_VISIBILITIES, type Group } from '../../core/records.ts';
import { apiErrors, IdParams, Iso, iso, NoContent, page, PageQuery, Paged, type PageRequest } from '../schemas.ts';
import { userView, UserView } from './users.ts';
import { changedMeanwhile, checkVersion } from './versions.ts';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const UserId = Type.String({ minLength: 1, maxLength: 128 });
const MemberIds = Type.Array(UserId, { uniqueItems: true, maxItems: 10_000 });
const Version = Type.Integer({ minimum: 1, description: 'The version this change is based on; another one answers 409' });
const changeable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000 }),
  visibility: literals(GROUP_VISIBILITIES),
  rulesVisible: Type.Boolean(),
  memberIds: Type.Array(UserId, { uniqueItems: true, maxItems: 10_000, description: 'Lockstep: the whole member list' }),
};
/** Genesys Cloud's `GroupCreate`: `type`, `visibility` and `rulesVisible` default to official, public, false. */
const GroupCreate = Type.Object({
  ...Type.Partial(Type.Object(changeable)).properties, name: changeable.name, type: Type.Optional(literals(GROUP_TYPES)),
}, { additionalProperties: false });
/** Genesys Cloud's `GroupUpdate` (no `type`: it is fixed at creation). */
const GroupUpdate = Type.Object({ ...Type.Partial(Type.Object(changeable)).properties, version: Type.Optional(Version) }, { additionalProperties: false, minProperties: 1 });
/** Genesys Cloud's `GroupMembersUpdate`. */
const GroupMembersUpdate = Type.Object({ memberIds: Type.Array(UserId, { minItems: 1, maxItems: 1000, uniqueItems: true }), version: Type.Optional(Version) }, { additionalProperties: false });
const RemoveMembers = Type.Object({ ids: Type.String({ minLength: 1, maxLength: 50_000, description: 'Comma-separated user ids' }) });
/** Genesys Cloud's `Group` plus Lockstep's `memberIds`. */
const GroupView = Type.Object({
  id: Type.String(), name: Type.String(), description: Type.String(), type: literals(GROUP_TYPES), visibility: literals(GROUP_VISIBILITIES),
  rulesVisible: Type.Boolean(), state: Type.Literal('active'), version: Type.Integer(), memberCount: Type.Integer(),
  dateModified: Iso, selfUri: Type.String(), memberIds: MemberIds,
});

const groupView = (g: Group) => ({
  id: g.id, name: g.name, description: g.description, type: g.type, visibility: g.visibility, rulesVisible: g.rulesVisible,
  state: 'active' as const, version: g.version, memberCount: g.memberIds.length, dateModified: iso(g.updatedAt),
  selfUri: `/api/v2/groups/${g.id}`, memberIds: g.memberIds,
});

/** Members must be users of the same org; naming another org's user is the same as naming nobody. */
async function checkMembers(a: Authority, orgId: string, ids: readonly string[]) {
  const known = new Set((await a.store.listUsers(orgId)).map((u) => u.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw BadRequest(`Unknown user ids in memberIds: ${unknown.slice(0, 10).join(', ')}`);
}

async function mustGetGroup(a: Authority, orgId: string, id: string) {
  const group = await a.store.getGroup(orgId, id);
  if (!group) throw NotFound(`No group ${id} in this organization`);
  return group;
}

type Id = { Params: Static<typeof IdParams> };

export function groupRoutes(admin: FastifyInstance, a: Authority) {
  /** Every change of a group: read it, check the version it is based on, write the next version; new members get their bundle's timeout at once. */
  async function changeGroup(orgId: string, id: string, based: number | undefined, change: (g: Group) => Group) {
    const group = await mustGetGroup(a, orgId, id);
    checkVersion('group', group, based);
    const next = { ...change(group), version: group.version + 1, updatedAt: a.clock.now() };
    if (next.memberIds !== group.memberIds) await checkMembers(a, orgId, next.memberIds);
    if (!(await a.store.updateGroup(next))) throw changedMeanwhile('group', id);
    if (next.memberIds !== group.memberIds) await a.ledger.retimeOrg(orgId);
    return groupView(next);
  }

  admin.get<{ Querystring: PageRequest }>('/api/v2/groups', { schema: { tags: ['Groups'], summary: 'List groups', querystring: PageQuery, response: { 200: Paged(GroupView), ...apiErrors } } },
    async (request) => page(await a.store.listGroups(request.auth.orgId), request.query, groupView));

  admin.post<{ Body: Static<typeof GroupCreate> }>('/api/v2/groups', { schema: { tags: ['Groups'], summary: 'Create a group', body: GroupCreate, response: { 201: GroupView, ...apiErrors } } },
    async function createGroup(request, reply) {
      const { orgId } = request.auth;
      const b = request.body;
      const memberIds = b.memberIds ?? [];
      await checkMembers(a, orgId, memberIds);
      const now = a.clock.now();
      const group: Group = {
        id: newId(), orgId, name: b.name, description: b.description ?? '', type: b.type ?? 'official', visibility: b.visibility ?? 'public',
        rulesVisible: b.rulesVisible ?? false, memberIds, version: 1, createdAt: now, updatedAt: now,
      };
      await a.store.createGroup(group);
      if (memberIds.length) await a.ledger.retimeOrg(orgId);
      return reply.code(201).send(groupView(group));
    });

  admin.get<Id>('/api/v2/groups/:id', { schema: { tags: ['Groups'], summary: 'Get a group', params: IdParams, response: { 200: GroupView, ...apiErrors } } },
    async (request) => groupView(await mustGetGroup(a, request.auth.orgId, request.params.id)));

  // PUT is the SDK's putGroup; PATCH the same partial update.
  for (const method of ['put', 'patch'] as const) {
    admin[method]<Id & { Body: Static<typeof GroupUpdate> }>('/api/v2/groups/:id',
      { schema: { tags: ['Groups'], summary: method === 'put' ? 'Update a group (putGroup)' : 'Update a group (same as PUT)', params: IdParams, body: GroupUpdate, response: { 200: GroupView, ...apiErrors } } },
      async function updateGroup(request) {
        const { version, ...fields } = request.body;
        return changeGroup(request.auth.orgId, request.params.id, version, (g) => ({ ...g, ...fields }));
      });
  }

  admin.get<Id & { Querystring: PageRequest }>('/api/v2/groups/:id/members',
    { schema: { tags: ['Groups'], summary: 'List the members of a group', params: IdParams, querystring: PageQuery, response: { 200: Paged(UserView), ...apiErrors } } },
    async function groupMembers(request) {
      const group = await mustGetGroup(a, request.auth.orgId, request.params.id);
      const members = new Set(group.memberIds);
      return page((await a.store.listUsers(group.orgId)).filter((u) => members.has(u.id)), request.query, userView);
    });

  admin.post<Id & { Body: Static<typeof GroupMembersUpdate> }>('/api/v2/groups/:id/members',
    { schema: { tags: ['Groups'], summary: 'Add members to a group', params: IdParams, body: GroupMembersUpdate, response: { 200: GroupView, ...apiErrors } } },
    async (request) => changeGroup(request.auth.orgId, request.params.id, request.body.version,
      (g) => ({ ...g, memberIds: [...new Set([...g.memberIds, ...request.body.memberIds])] })));

  admin.delete<Id & { Querystring: Static<typeof RemoveMembers> }>('/api/v2/groups/:id/members',
    { schema: { tags: ['Groups'], summary: 'Remove members from a group', params: IdParams, querystring: RemoveMembers, response: { 200: GroupView, ...apiErrors } } },
    async function removeMembers(request) {
      const gone = new Set(request.query.ids.split(',').map((id) => id.trim()).filter(Boolean));
      if (gone.size > 1000) throw BadRequest('At most 1000 ids can be removed at once');
      return changeGroup(request.auth.orgId, request.params.id, undefined, (g) => ({ ...g, memberIds: g.memberIds.filter((id) => !gone.has(id)) }));
    });

  admin.delete<Id>('/api/v2/groups/:id', { schema: { tags: ['Groups'], summary: 'Delete a group', params: IdParams, response: { 204: NoContent, ...apiErrors } } },
    async (request, reply) => {
      if (!(await a.store.deleteGroup(request.auth.orgId, request.params.id))) throw NotFound(`No group ${request.params.id} in this organization`);
      await a.ledger.retimeOrg(request.auth.orgId);
      return reply.code(204).send();
    });
}
