import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { newId } from '../../core/ids.ts';
import type { Authority } from '../../authority/authority.ts';
import { Conflict, NotFound } from '../../core/errors.ts';
import { hashPassword } from '../../core/secrets.ts';
import { ROLES, type User } from '../../core/records.ts';
import { StoreConflictError } from '../../store/store.ts';
import { apiErrors, IdParams, Iso, iso, NoContent, page, PageQuery, Paged, type PageRequest } from '../schemas.ts';
import { changedMeanwhile, checkVersion } from './versions.ts';

const Roles = Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { uniqueItems: true, maxItems: ROLES.length });
const UserFields = {
  email: Type.String({ format: 'email', maxLength: 254 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ minLength: 8, maxLength: 256 }),
  roles: Roles,
};
const Version = Type.Integer({ minimum: 1, description: 'The version this change is based on; another one answers 409' });
/** Genesys Cloud's `CreateUser` (Lockstep has no divisions: `divisionId` is accepted and ignored) plus `roles`. */
const NewUser = Type.Object({
  email: UserFields.email, name: UserFields.name, password: Type.Optional(UserFields.password), roles: UserFields.roles,
  divisionId: Type.Optional(Type.String({ maxLength: 128 })),
}, { additionalProperties: false });
const UserPatch = Type.Object({ ...Type.Partial(Type.Object(UserFields)).properties, version: Type.Optional(Version) }, { additionalProperties: false, minProperties: 1 });
/** Genesys Cloud's `User` (the fields Lockstep has) plus `roles` and `createdAt`. */
export const UserView = Type.Object({
  id: Type.String(), name: Type.String(), email: Type.String(), username: Type.String(), state: Type.Literal('active'),
  version: Type.Integer(), roles: Roles, createdAt: Iso, selfUri: Type.String(),
});

export const userView = (u: User) => ({
  id: u.id, name: u.name, email: u.email, username: u.email, state: 'active' as const, version: u.version, roles: u.roles,
  createdAt: iso(u.createdAt), selfUri: `/api/v2/users/${u.id}`,
});

const emailTaken = (email: string) => Conflict(`A user with email ${email} already exists`);

export function userRoutes(admin: FastifyInstance, a: Authority) {
  admin.get<{ Querystring: PageRequest }>('/api/v2/users', { schema: { tags: ['Users'], summary: 'List users', querystring: PageQuery, response: { 200: Paged(UserView), ...apiErrors } } },
    async (request) => page(await a.store.listUsers(request.auth.orgId), request.query, userView));

  admin.post<{ Body: Static<typeof NewUser> }>('/api/v2/users', { schema: { tags: ['Users'], summary: 'Create a user', body: NewUser, response: { 201: UserView, ...apiErrors } } },
    async function createUser(request, reply) {
      const now = a.clock.now();
      const b = request.body;
      const user: User = {
        id: newId(), orgId: request.auth.orgId, email: b.email, name: b.name,
        passwordHash: b.password ? await hashPassword(b.password) : null, roles: b.roles, version: 1, createdAt: now, updatedAt: now,
      };
      try {
        await a.store.createUser(user);
      } catch (err) {
        if (err instanceof StoreConflictError) throw emailTaken(b.email);
        throw err;
      }
      return reply.code(201).send(userView(user));
    });

  admin.get<{ Params: { id: string } }>('/api/v2/users/:id', { schema: { tags: ['Users'], summary: 'Get a user', params: IdParams, response: { 200: UserView, ...apiErrors } } },
    async (request) => userView(await mustGetUser(a, request.auth.orgId, request.params.id)));

  admin.patch<{ Params: { id: string }; Body: Static<typeof UserPatch> }>('/api/v2/users/:id',
    { schema: { tags: ['Users'], summary: 'Change a user (a new password ends their tokens)', params: IdParams, body: UserPatch, response: { 200: UserView, ...apiErrors } } },
    async function updateUser(request) {
      const user = await mustGetUser(a, request.auth.orgId, request.params.id);
      const { password, version, ...fields } = request.body;
      checkVersion('user', user, version);
      const next: User = {
        ...user, ...fields, version: user.version + 1, updatedAt: a.clock.now(), ...(password ? { passwordHash: await hashPassword(password) } : {}),
      };
      let written: boolean;
      try {
        written = await a.store.updateUser(next);
      } catch (err) {
        if (err instanceof StoreConflictError) throw emailTaken(next.email);
        throw err;
      }
      if (!written) throw changedMeanwhile('user', user.id);
      if (password) {
        // A password reset is for a password someone else may know: everything signed in with the old one ends.
        const { orgId, userId: adminId, clientId } = request.auth;
        if (user.id === adminId) request.auth.endsOwnToken = true;
        await a.ledger.end({ userId: user.id }, { orgId, userId: user.id, reason: 'admin_logoff', initiatingClientId: clientId, actor: { userId: adminId, clientId } });
      }
      return userView(next);
    });

  admin.delete<{ Params: { id: string } }>('/api/v2/users/:id', { schema: { tags: ['Users'], summary: 'Delete a user (their tokens end)', params: IdParams, response: { 204: NoContent, ...apiErrors } } },
    async function deleteUser(request, reply) {
      const { orgId, userId: adminId, clientId } = request.auth;
      const user = await mustGetUser(a, orgId, request.params.id);
      if (user.id === adminId) request.auth.endsOwnToken = true;
      await a.ledger.end({ userId: user.id }, { orgId, userId: user.id, reason: 'user_deleted', initiatingClientId: clientId });
      await a.store.deleteUser(orgId, user.id);
      return reply.code(204).send();
    });
}

export async function mustGetUser(a: Authority, orgId: string, id: string): Promise<User> {
  const user = await a.store.getUser(orgId, id);
  if (!user) throw NotFound(`No user ${id} in this organization`);
  return user;
}
