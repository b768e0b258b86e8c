import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { idleExpiresAt, judgeToken } from '../../core/live-token.ts';
import { sha256 } from '../../core/secrets.ts';
import { clientAuth, FORM_OR_JSON, oauthErrors } from '../schemas.ts';
import { authenticateClient } from './client-auth.ts';

const IntrospectRequest = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
  client_id: Type.Optional(Type.String({ maxLength: 256, description: 'client_secret_post (with client_secret)' })),
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'client_secret_post; not with Basic credentials' })),
}, { description: 'Client authentication: client_secret_basic (Authorization: Basic) or client_secret_post (client_id and client_secret here)' });

const IntrospectResponse = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  iss: Type.Optional(Type.String()),
  org_id: Type.Optional(Type.String()),
  idle_exp: Type.Optional(Type.Integer({ description: 'When the token idles out, if an idle timeout applies (seconds since the epoch)' })),
});
type IntrospectResponse = Static<typeof IntrospectResponse>;

const sec = (ms: number) => Math.floor(ms / 1000);

/** RFC 7662. Callers authenticate as a confidential client and see only tokens of their own org; introspection is not activity. */
export function introspectionRoutes(app: FastifyInstance, a: Authority) {
  app.post<{ Body: Static<typeof IntrospectRequest> }>('/oauth/introspect',
    { schema: { tags: ['OAuth'], summary: 'Token introspection (RFC 7662; confidential clients of the same org)', security: clientAuth, consumes: FORM_OR_JSON, body: IntrospectRequest, response: { 200: IntrospectResponse, ...oauthErrors } } },
    async function introspect(request, reply): Promise<IntrospectResponse> {
      const caller = await authenticateClient(a, request, { confidentialOnly: true });
      reply.header('cache-control', 'no-store');
      const hash = sha256(request.body.token);
      const now = a.clock.now();
      const access = await a.ledger.find(hash);
      if (access) {
        if (access.orgId !== caller.orgId || !judgeToken(access, now).live) return { active: false };
        const user = access.userId ? await a.store.getUser(access.orgId, access.userId) : null;
        const idle = idleExpiresAt(access);
        return {
          active: true, token_type: 'Bearer', scope: access.scope, client_id: access.clientId, aud: access.clientId,
          sub: access.userId ?? access.clientId, username: user?.email, iss: a.issuer(), org_id: access.orgId,
          iat: sec(access.issuedAt), exp: sec(access.expiresAt), ...(idle != null ? { idle_exp: sec(idle) } : {}),
        };
      }
      const refresh = await a.store.findRefreshTokenByHash(hash);
      if (!refresh || refresh.orgId !== caller.orgId || refresh.revokedAt != null || refresh.rotatedAt != null || now >= refresh.expiresAt) {
        return { active: false };
      }
      return {
        active: true, token_type: 'refresh_token', scope: refresh.scope, client_id: refresh.clientId, aud: refresh.clientId,
        sub: refresh.userId, iss: a.issuer(), org_id: refresh.orgId, iat: sec(refresh.issuedAt), exp: sec(refresh.expiresAt),
      };
    });
}
