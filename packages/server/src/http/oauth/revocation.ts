import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { InvalidRequest } from '../../core/errors.ts';
import { sha256 } from '../../core/secrets.ts';
import { clientAuth, FORM_OR_JSON, oauthErrors } from '../schemas.ts';
import { authenticateClient } from './client-auth.ts';

const RevokeRequest = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
  client_id: Type.Optional(Type.String({ maxLength: 256, description: 'client_secret_post, or a public client naming itself' })),
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'client_secret_post; not with Basic credentials' })),
}, { description: 'Client authentication: client_secret_basic (Authorization: Basic), client_secret_post (client_id and client_secret here), or a public client\'s client_id alone' });

const notYours = () => InvalidRequest('The token was not issued to this client');

/**
 * RFC 7009. One token only: an access token ends alone; a refresh token ends with its grant.
 * An unknown token is answered 200, as the RFC says.
 */
export function revocationRoutes(app: FastifyInstance, a: Authority) {
  app.post<{ Body: Static<typeof RevokeRequest> }>('/oauth/revoke', { schema: { tags: ['OAuth'], summary: 'Token revocation (RFC 7009): one token; a refresh token takes its grant with it', security: clientAuth, consumes: FORM_OR_JSON, body: RevokeRequest, response: { 200: Type.Null({ description: 'Revoked, or not known (RFC 7009)' }), ...oauthErrors } } },
    async function revoke(request, reply) {
      const client = await authenticateClient(a, request);
      const hash = sha256(request.body.token);
      const access = await a.store.findAccessTokenByHash(hash);
      if (access) {
        if (access.clientId !== client.id) throw notYours();
        await a.ledger.end({ accessTokenId: access.id }, { orgId: access.orgId, userId: access.userId, reason: 'revocation', initiatingClientId: client.id });
        return reply.code(200).send();
      }
      const refresh = await a.store.findRefreshTokenByHash(hash);
      if (refresh) {
        if (refresh.clientId !== client.id) throw notYours();
        await a.ledger.end({ grantId: refresh.grantId }, { orgId: refresh.orgId, userId: refresh.userId, reason: 'revocation', initiatingClientId: client.id });
      }
      return reply.code(200).send();
    });
}
