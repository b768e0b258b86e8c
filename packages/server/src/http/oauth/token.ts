import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { newId } from '../../core/ids.ts';
import type { Authority } from '../../authority/authority.ts';
import { issueTokens, refreshTokens, type TokenResponse } from '../../authority/issue-tokens.ts';
import { InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../core/errors.ts';
import { verifyS256 } from '../../core/pkce.ts';
import { sha256 } from '../../core/secrets.ts';
import { clientAllowsOrigin } from '../../core/web-origins.ts';
import type { Client, GrantType } from '../../core/records.ts';
import { clientAuth, FORM_OR_JSON, oauthErrors } from '../schemas.ts';
import { authenticateClient } from './client-auth.ts';

const short = Type.String({ maxLength: 4096 });
const TokenRequest = Type.Object({
  grant_type: Type.String({ maxLength: 64 }),
  code: Type.Optional(short),
  redirect_uri: Type.Optional(short),
  code_verifier: Type.Optional(short),
  refresh_token: Type.Optional(short),
  scope: Type.Optional(short),
  client_id: Type.Optional(Type.String({ maxLength: 4096, description: 'client_secret_post, or a public client naming itself' })),
  client_secret: Type.Optional(Type.String({ maxLength: 4096, description: 'client_secret_post; not with Basic credentials' })),
}, {
  description: "Client authentication: client_secret_basic (Authorization: Basic), client_secret_post (client_id and client_secret here), or a public client's client_id alone",
  examples: [
    { grant_type: 'authorization_code', code: 'lsc_4Yc3...', redirect_uri: 'http://127.0.0.1:8080/demo/callback', code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', client_id: 'agent-desktop' },
    { grant_type: 'client_credentials', client_id: 'automation', client_secret: 'lss_...', scope: 'api' },
    { grant_type: 'refresh_token', refresh_token: 'lsr_...', client_id: 'crm-backend', client_secret: 'lss_...' },
  ],
});
type TokenRequest = Static<typeof TokenRequest>;

const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
  refresh_token: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String()),
}, {
  examples: [{
    access_token: 'lsa_9fQm...', token_type: 'Bearer', expires_in: 86400, scope: 'openid profile email',
    id_token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln',
  }],
});

function requireGrant(client: Client, grant: GrantType) {
  if (!client.grantTypes.includes(grant)) throw UnauthorizedClient(`This client may not use the ${grant} grant`);
}

async function authorizationCode(a: Authority, client: Client, body: TokenRequest): Promise<TokenResponse> {
  requireGrant(client, 'authorization_code');
  if (!body.code) throw InvalidRequest('code is required');
  if (!body.code_verifier) throw InvalidRequest('code_verifier is required (PKCE)');
  // An idle expiry due now may end the code's sign-in session: run it before looking.
  await a.ledger.sweep();
  const codeHash = sha256(body.code);
  const code = await a.store.consumeAuthCode(codeHash, a.clock.now());
  const used = code ? null : await a.store.findUsedAuthCode(codeHash);
  if (used) {
    // Used twice: whoever redeemed it first may not have been the client. Its tokens go (RFC 6749 §4.1.2).
    await a.ledger.end({ grantId: grantOfCode(codeHash) }, { orgId: used.orgId, userId: used.userId, reason: 'revocation', initiatingClientId: client.id });
  }
  if (!code || code.clientId !== client.id) throw InvalidGrant('The authorization code is invalid, expired, already used or not issued to this client');
  if (body.redirect_uri !== code.redirectUri) throw InvalidGrant('redirect_uri does not match the authorization request');
  if (!verifyS256(body.code_verifier, code.codeChallenge)) throw InvalidGrant('code_verifier does not match the code_challenge');
  const [user, session] = await Promise.all([a.store.getUser(code.orgId, code.userId), a.store.getSignInSession(code.sessionId)]);
  if (!user || !session) throw InvalidGrant('The user or the sign-in session no longer exists');
  const idleOn = (await a.settings.get(user.orgId)).idle.enableIdleTokenTimeout;
  return issueTokens(a, {
    client, user, sessionId: code.sessionId, grantId: grantOfCode(codeHash), scope: code.scope, nonce: code.nonce,
    authTime: session.authTime, withRefreshToken: client.grantTypes.includes('refresh_token') && !idleOn,
  });
}

/** The grant a code's exchange starts is named after the code, so a second use finds the first one's tokens. */
const grantOfCode = (codeHash: string) => sha256(`grant:${codeHash}`);

async function clientCredentials(a: Authority, client: Client, body: TokenRequest): Promise<TokenResponse> {
  requireGrant(client, 'client_credentials');
  if (client.type !== 'confidential') throw UnauthorizedClient('client_credentials needs a confidential client');
  return issueTokens(a, { client, user: null, sessionId: null, grantId: newId(), scope: body.scope?.trim() || 'api', withRefreshToken: false });
}

async function refreshToken(a: Authority, client: Client, body: TokenRequest): Promise<TokenResponse> {
  requireGrant(client, 'refresh_token');
  if (!body.refresh_token) throw InvalidRequest('refresh_token is required');
  return refreshTokens(a, client, body.refresh_token, body.scope?.trim() || undefined);
}

// A Map, not an object: `constructor`, `__proto__` or `toString` are no grant.
const GRANTS = new Map<string, (a: Authority, client: Client, body: TokenRequest) => Promise<TokenResponse>>([
  ['authorization_code', authorizationCode],
  ['client_credentials', clientCredentials],
  ['refresh_token', refreshToken],
]);

export function tokenRoutes(app: FastifyInstance, a: Authority) {
  app.post<{ Body: TokenRequest }>('/oauth/token', { schema: { tags: ['OAuth'], summary: 'Token endpoint: authorization_code (PKCE), refresh_token (rotating), client_credentials', security: clientAuth, consumes: FORM_OR_JSON, body: TokenRequest, response: { 200: TokenResponseSchema, ...oauthErrors } } },
    async function token(request, reply) {
      const grant = GRANTS.get(request.body.grant_type);
      if (!grant) throw UnsupportedGrantType(`grant_type must be one of ${[...GRANTS.keys()].join(', ')}`);
      const client = await authenticateClient(a, request);
      // Before anything is consumed: a code redeemed for a page that cannot read the answer would leave a live token nobody holds.
      const origin = request.headers.origin;
      if (origin != null && !clientAllowsOrigin(client, origin)) throw InvalidRequest(`Origin ${origin.slice(0, 200)} is not allowed for client ${client.id}`);
      const response = await grant(a, client, request.body);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
    });
}
