import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';

const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'Endpoints, supported grants, methods and claims' });
const Jwks = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) });

/** RFC 8414 and OpenID Connect Discovery: one document at both well-known URLs. */
export function metadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    end_session_endpoint: `${issuer}/oauth/logout`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    jwks_uri: `${issuer}/oauth/jwks`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'profile', 'email'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'email', 'email_verified', 'name', 'org_id'],
    prompt_values_supported: ['none', 'login'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    global_token_revocation_endpoint: `${issuer}/oauth/global-token-revocation`,
    global_token_revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  };
}

export function metadataRoutes(app: FastifyInstance, a: Authority) {
  const schema = (summary: string) => ({ tags: ['OAuth'], summary, response: { 200: Metadata } });
  const handler = async () => metadata(a.issuer());
  app.get('/.well-known/openid-configuration', { schema: schema('OpenID Connect discovery metadata') }, handler);
  app.get('/.well-known/oauth-authorization-server', { schema: schema('OAuth authorization server metadata (RFC 8414)') }, handler);
  app.get('/oauth/jwks', { schema: { tags: ['OAuth'], summary: 'The signing keys (JWKS): RS256 key of ID tokens and logout tokens', response: { 200: Jwks } } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(await a.keys.publicJwks()));
}
