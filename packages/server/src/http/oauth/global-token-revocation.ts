import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { OAuthError } from '../../core/errors.ts';
import type { User } from '../../core/records.ts';
import { clientAuth, oauthError, oauthErrors } from '../schemas.ts';
import { authenticateClient } from './client-auth.ts';

const SubjectId = Type.Union([
  Type.Object({ format: Type.Literal('email'), email: Type.String({ minLength: 3, maxLength: 254 }) }),
  Type.Object({ format: Type.Literal('opaque'), id: Type.String({ minLength: 1, maxLength: 128 }) }),
  Type.Object({ format: Type.Literal('iss_sub'), iss: Type.String({ maxLength: 2048 }), sub: Type.String({ minLength: 1, maxLength: 128 }) }),
]);
const GtrRequest = Type.Object({ sub_id: SubjectId }, {
  description: 'Client authentication: Basic, or client_secret_basic alone (client_secret_post is not possible with a JSON body)',
  examples: [{ sub_id: { format: 'email', email: 'agent@demo.test' } }],
});
type SubjectId = Static<typeof SubjectId>;

/** The subject, looked up only inside the caller's org: a user of another org is as unknown as nobody. */
async function findSubject(a: Authority, orgId: string, s: SubjectId): Promise<User | null> {
  if (s.format === 'email') {
    const user = await a.store.findUserByEmail(s.email);
    return user?.orgId === orgId ? user : null;
  }
  if (s.format === 'iss_sub' && s.iss !== a.issuer()) return null;
  return a.store.getUser(orgId, s.format === 'opaque' ? s.id : s.sub);
}

/**
 * Global Token Revocation (draft-parecki-oauth-global-token-revocation): an identity provider,
 * authenticated as a confidential client with the admin role, logs a user out everywhere.
 */
export function globalTokenRevocationRoutes(app: FastifyInstance, a: Authority) {
  app.post<{ Body: Static<typeof GtrRequest> }>('/oauth/global-token-revocation',
    { schema: { tags: ['OAuth'], summary: 'Global token revocation: log a user out everywhere (confidential client with the admin role)', security: clientAuth, body: GtrRequest, response: { 204: Type.Null({ description: 'Every token of the user ended' }), 403: oauthError(403), 404: oauthError(404), ...oauthErrors } } },
    async function globalTokenRevocation(request, reply) {
      const client = await authenticateClient(a, request as never, { confidentialOnly: true });
      if (!client.roles.includes('admin')) throw new OAuthError('access_denied', 'This client may not revoke users\' tokens (it needs the admin role)', 403);
      const user = await findSubject(a, client.orgId, request.body.sub_id);
      if (!user) throw new OAuthError('invalid_request', 'No such user', 404);
      await a.ledger.end({ userId: user.id }, {
        orgId: user.orgId, userId: user.id, reason: 'global_revocation', initiatingClientId: client.id, actor: { clientId: client.id },
      });
      return reply.code(204).send();
    });
}
