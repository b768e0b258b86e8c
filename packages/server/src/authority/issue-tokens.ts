import { newId } from '../core/ids.ts';
import { InvalidGrant, OAuthError } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';
import { LIFETIMES } from '../core/lifetimes.ts';
import { randomToken, sha256, TOKEN_PREFIX } from '../core/secrets.ts';
import type { AccessToken, Client, RefreshToken, User } from '../core/records.ts';
import type { Authority } from './authority.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export interface Grant {
  client: Client;
  user: User | null;
  sessionId: string | null;
  grantId: string;
  scope: string;
  nonce?: string | null;
  authTime?: number;
  withRefreshToken: boolean;
}

const hasScope = (scope: string, s: string) => scope.split(' ').includes(s);

const SESSION_ENDED = 'The sign-in session has ended (logout, logoff or idle timeout): sign in again';

async function sessionLive(a: Authority, sessionId: string, now: number): Promise<boolean> {
  const session = await a.store.getSignInSession(sessionId);
  return !!session && session.endedAt == null && now < session.expiresAt;
}

/**
 * Issues the tokens of a grant. A user's tokens belong to a live sign-in session: checked before, and
 * again once saved, so a logoff that ran in between (which the saved rows escaped) takes them too.
 */
export async function issueTokens(a: Authority, g: Grant): Promise<TokenResponse> {
  const now = a.clock.now();
  if (g.sessionId && !(await sessionLive(a, g.sessionId, now))) throw InvalidGrant(SESSION_ENDED);
  if (g.sessionId && (await a.store.countLiveAccessTokensOfSession(g.sessionId, now)) >= LIMITS.accessTokensPerSignInSession) {
    throw new OAuthError('invalid_request', `This sign-in already has ${LIMITS.accessTokensPerSignInSession} live access tokens: revoke some, or sign out and in again`, 429);
  }
  const ttlMs = a.config.accessTokenTtlSeconds * 1000;
  const raw = randomToken(TOKEN_PREFIX.accessToken);
  const record: AccessToken = {
    id: newId(), hash: sha256(raw), orgId: g.client.orgId, userId: g.user?.id ?? null, clientId: g.client.id,
    sessionId: g.sessionId, grantId: g.grantId, scope: g.scope, issuedAt: now, expiresAt: now + ttlMs,
    lastActivityAt: now, revokedAt: null, revokeReason: null,
  };
  await a.ledger.issue(record);
  const response: TokenResponse = { access_token: raw, token_type: 'Bearer', expires_in: Math.floor(ttlMs / 1000), scope: g.scope };

  if (g.user && g.sessionId && g.withRefreshToken) {
    const rawRefresh = randomToken(TOKEN_PREFIX.refreshToken);
    await a.store.saveRefreshToken(refreshRecord(g, rawRefresh, now));
    response.refresh_token = rawRefresh;
  }
  if (g.sessionId && !(await sessionLive(a, g.sessionId, now))) {
    await a.ledger.end({ grantId: g.grantId }, { orgId: g.client.orgId, userId: g.user?.id ?? null, reason: 'revocation', initiatingClientId: g.client.id });
    throw InvalidGrant(SESSION_ENDED);
  }
  if (g.user && hasScope(g.scope, 'openid')) response.id_token = await idToken(a, g, g.user, now);
  return response;
}

function refreshRecord(g: Grant, raw: string, now: number): RefreshToken {
  return {
    id: newId(), hash: sha256(raw), grantId: g.grantId, orgId: g.client.orgId, userId: g.user!.id, clientId: g.client.id,
    sessionId: g.sessionId!, scope: g.scope, issuedAt: now, expiresAt: now + LIFETIMES.refreshTokenMs, rotatedAt: null, revokedAt: null,
  };
}

function idToken(a: Authority, g: Grant, user: User, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return a.keys.sign({
    iss: a.issuer(), sub: user.id, aud: g.client.id, iat, exp: iat + LIFETIMES.idTokenMs / 1000,
    auth_time: Math.floor((g.authTime ?? now) / 1000), sid: g.sessionId ?? undefined,
    ...(g.nonce ? { nonce: g.nonce } : {}),
    ...(hasScope(g.scope, 'email') ? { email: user.email } : {}),
    ...(hasScope(g.scope, 'profile') ? { name: user.name } : {}),
    org_id: user.orgId,
  });
}

/**
 * Refresh-token rotation: each refresh token works once. Presenting one that was already
 * rotated means it leaked (or a client bug), so the whole grant is revoked (OAuth 2.1 §4.3.1).
 */
export async function refreshTokens(a: Authority, client: Client, rawRefresh: string, requestedScope: string | undefined): Promise<TokenResponse> {
  // Idle expiries due now revoke their grants' refresh tokens: run them before looking.
  await a.ledger.sweep();
  const now = a.clock.now();
  const current = await a.store.findRefreshTokenByHash(sha256(rawRefresh));
  if (!current || current.clientId !== client.id) throw InvalidGrant('The refresh token is not valid for this client');
  if (current.revokedAt != null) throw InvalidGrant('The refresh token has been revoked');
  if (now >= current.expiresAt) throw InvalidGrant('The refresh token has expired');
  if (requestedScope && !requestedScope.split(' ').every((s) => hasScope(current.scope, s))) {
    throw InvalidGrant('The requested scope exceeds the scope originally granted');
  }
  const [user, session] = await Promise.all([a.store.getUser(current.orgId, current.userId), a.store.getSignInSession(current.sessionId)]);
  if (!user || !session) throw InvalidGrant('The user or the sign-in session of this refresh token no longer exists');

  // auth_time stays the sign-in's time: a refresh is not an authentication (oidc-client-ts compares it).
  const grant: Grant = {
    client, user, sessionId: current.sessionId, grantId: current.grantId, scope: requestedScope ?? current.scope,
    authTime: session.authTime, withRefreshToken: true,
  };
  const rawNext = randomToken(TOKEN_PREFIX.refreshToken);
  const rotated = current.rotatedAt == null && (await a.store.rotateRefreshToken(current.id, refreshRecord(grant, rawNext, now), now));
  if (!rotated) {
    await a.ledger.end({ grantId: current.grantId }, {
      orgId: current.orgId, userId: current.userId, reason: 'refresh_reuse', initiatingClientId: client.id,
    });
    throw InvalidGrant('The refresh token was already used; every token of this grant has been revoked');
  }
  const response = await issueTokens(a, { ...grant, withRefreshToken: false });
  // While the idle timeout is on no refresh token is handed out: the grant lives only as long as its access tokens stay active.
  const idleOn = (await a.settings.get(current.orgId)).idle.enableIdleTokenTimeout;
  return idleOn ? response : { ...response, refresh_token: rawNext };
}
