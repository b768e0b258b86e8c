import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { BadRequest, NotFound } from '../../core/errors.ts';
import { apiErrors } from '../schemas.ts';
import { userView, UserView } from './users.ts';

/** The Genesys Cloud SDK's `Organization` (the fields Lockstep has). */
const Organization = Type.Object({
  id: Type.String(), name: Type.String(), state: Type.String(), version: Type.Integer(),
  features: Type.Object({ hipaa: Type.Boolean() }), selfUri: Type.String(),
});

/** Who the token acts for: `GET /api/v2/users/me` (a user's token) and `GET /api/v2/organizations/me` (any token). */
export function meRoutes(api: FastifyInstance, a: Authority) {
  api.get('/api/v2/users/me', { schema: { tags: ['Users'], summary: 'The user of this token', response: { 200: UserView, ...apiErrors } } }, async function userMe(request) {
    const { orgId, userId } = request.auth;
    if (!userId) throw BadRequest('This token acts for a client, not a user (client credentials): there is no /users/me');
    const user = await a.store.getUser(orgId, userId);
    if (!user) throw NotFound('The user of this token no longer exists');
    return userView(user);
  });

  api.get('/api/v2/organizations/me', { schema: { tags: ['Organization'], summary: "The token's organization (with features)", response: { 200: Organization, ...apiErrors } } }, async function organizationMe(request) {
    const org = await a.store.getOrg(request.auth.orgId);
    if (!org) throw NotFound('The organization of this token no longer exists');
    const { hipaa } = await a.settings.get(org.id);
    return { id: org.id, name: org.name, state: 'active', version: 1, features: { hipaa }, selfUri: `/api/v2/organizations/${org.id}` };
  });
}
