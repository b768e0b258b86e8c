import { newId } from '../core/ids.ts';
import { LIFETIMES } from '../core/lifetimes.ts';
import { DUMMY_PASSWORD_HASH, randomToken, sha256, TOKEN_PREFIX, verifyPassword } from '../core/secrets.ts';
import type { Client, SignInSession, User } from '../core/records.ts';
import type { Authority } from './authority.ts';
import { writeAudit } from './audit.ts';

export const SESSION_COOKIE = 'lockstep_session';

export type PasswordCheck = { ok: true; user: User } | { ok: false; retryAfterMs?: number };

/**
 * Checks a password under the brute-force throttle; the same work is done whether or not the user exists.
 * The attempt is counted (reserved) before the first await, so parallel guesses cannot slip past the limit
 * while earlier ones are still being hashed; a throttled attempt is answered without a hash.
 */
export async function checkPassword(a: Authority, email: string, password: string, ip: string): Promise<PasswordCheck> {
  const reservation = a.loginThrottle.reserve(email, ip);
  if (!reservation.ok) {
    a.metrics.loginsThrottled.inc();
    return { ok: false, retryAfterMs: reservation.retryAfterMs };
  }
  const { attempt } = reservation;
  const user = await a.store.findUserByEmail(email);
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !valid || !user.passwordHash) {
    attempt.failed();
    a.metrics.loginFailures.inc();
    if (user) await writeAudit(a.store, a.clock.now(), { orgId: user.orgId, kind: 'login_failed', userId: user.id, details: { ip } });
    return { ok: false };
  }
  attempt.succeeded();
  return { ok: true, user };
}

export async function startSignInSession(a: Authority, user: User, clientId: string): Promise<{ cookie: string; session: SignInSession }> {
  const now = a.clock.now();
  const cookie = randomToken(TOKEN_PREFIX.signInSession);
  const session: SignInSession = {
    id: newId(), tokenHash: sha256(cookie), orgId: user.orgId, userId: user.id, authTime: now, createdAt: now,
    expiresAt: now + LIFETIMES.signInSessionMs, endedAt: null,
  };
  await a.store.createSignInSession(session);
  await writeAudit(a.store, now, { orgId: user.orgId, kind: 'login', userId: user.id, clientId, details: { sessionId: session.id } });
  return { cookie, session };
}

/** The sign-in session behind a cookie, if it is still open and its user still exists. */
export async function currentSignInSession(a: Authority, cookie: string | undefined): Promise<{ session: SignInSession; user: User } | null> {
  if (!cookie) return null;
  const session = await a.store.findSignInSessionByHash(sha256(cookie));
  if (!session || session.endedAt != null || a.clock.now() >= session.expiresAt) return null;
  const user = await a.store.getUser(session.orgId, session.userId);
  return user ? { session, user } : null;
}

export interface CodeRequest {
  client: Client;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
}

export async function issueAuthCode(a: Authority, session: SignInSession, r: CodeRequest): Promise<string> {
  const now = a.clock.now();
  const code = randomToken(TOKEN_PREFIX.authCode);
  await a.store.saveAuthCode({
    hash: sha256(code), clientId: r.client.id, orgId: session.orgId, userId: session.userId, sessionId: session.id,
    redirectUri: r.redirectUri, codeChallenge: r.codeChallenge, scope: r.scope, nonce: r.nonce, createdAt: now,
    expiresAt: now + LIFETIMES.authCodeMs,
  });
  return code;
}
