import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { Forbidden, TokenRefused } from '../../core/errors.ts';
import { bearerAuth, oauthError, oauthErrors } from '../schemas.ts';

const UserInfo = Type.Object({
  sub: Type.String(),
  email: Type.Optional(Type.String()),
  email_verified: Type.Optional(Type.Boolean()),
  name: Type.Optional(Type.String()),
  org_id: Type.String(),
});

const scopes = (scope: string) => new Set(scope.split(' '));

/** OIDC Core §5.3 UserInfo, with the bearer token of a user's access token (GET or POST); claims follow the granted scopes. */
export function userInfoRoutes(api: FastifyInstance, a: Authority) {
  async function userInfo(request: FastifyRequest) {
    const { token, userId, orgId } = request.auth;
    const granted = scopes(token.scope);
    if (!userId || !granted.has('openid')) throw Forbidden('UserInfo needs a user\'s access token with the openid scope');
    const user = await a.store.getUser(orgId, userId);
    if (!user) throw TokenRefused('token.unknown', 'The user of this access token no longer exists');
    return {
      sub: user.id, org_id: user.orgId,
      ...(granted.has('email') ? { email: user.email, email_verified: true } : {}),
      ...(granted.has('profile') ? { name: user.name } : {}),
    };
  }
  const schema = (summary: string) => ({
    tags: ['OAuth'], summary, security: bearerAuth, response: { 200: UserInfo, 403: oauthError(403), 503: oauthError(503), ...oauthErrors },
  });
  api.get('/oauth/userinfo', { schema: schema('OIDC UserInfo: claims of the granted scopes') }, userInfo);
  api.post('/oauth/userinfo', { schema: schema('OIDC UserInfo (POST)') }, userInfo);
}
