import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { AuthenticationRequired, Forbidden, InvalidToken } from '../core/errors.ts';
import { judgeToken, type LiveToken } from '../core/live-token.ts';
import { sha256 } from '../core/secrets.ts';
import type { Role } from '../store/records.ts';

export interface AuthContext {
  token: LiveToken;
  orgId: string;
  userId: string | null;
  clientId: string;
  /** Set by a handler that revokes its own token (logout), so its own success is not turned into a 401. */
  endsOwnToken?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw InvalidToken('The Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/**
 * Hot path: one hash, one map lookup, one in-memory activity mark. Callback-style so a cache
 * hit costs no promise; only a miss reads the store.
 */
export function authenticate(a: Authority) {
  function admit(request: FastifyRequest, token: LiveToken | null): Error | undefined {
    if (!token) return InvalidToken('The access token is not known');
    const now = a.clock.now();
    const verdict = judgeToken(token, now);
    if (!verdict.live) {
      // Past its idle deadline but not swept yet: refused now, and the expirer runs at once for the events.
      if (verdict.problem === 'idle_timeout' && token.revokedAt == null) void a.expirer.sweep();
      return InvalidToken(verdict.description);
    }
    request.auth = { token, orgId: token.orgId, userId: token.userId, clientId: token.clientId };
    if (a.activity.counts(token, request)) a.activity.record(token, now);
    return undefined;
  }

  return function authenticateBearer(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
    let raw: string | null;
    try {
      raw = bearerToken(request);
    } catch (err) {
      return done(err as Error);
    }
    if (!raw) return done(AuthenticationRequired('An access token is required: Authorization: Bearer <token>'));
    const hash = sha256(raw);
    const cached = a.tokens.peek(hash);
    if (cached) return done(admit(request, cached));
    a.tokens.get(hash).then((token) => done(admit(request, token)), done);
  };
}

/**
 * Strictness: a request that passed the check before a concurrent revocation must not
 * answer success after that revocation returned.
 */
export function refuseIfRevokedMeanwhile(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) {
  const auth = request.auth as AuthContext | undefined;
  if (!auth || auth.endsOwnToken || auth.token.revokedAt == null || reply.statusCode >= 400) return done(null, payload);
  reply.code(401).type('application/json; charset=utf-8')
    .header('www-authenticate', 'Bearer error="invalid_token", error_description="The access token has been revoked"');
  done(null, JSON.stringify({ status: 401, code: 'invalid.token', message: 'The access token has been revoked' }));
}

export async function rolesOf(a: Authority, auth: AuthContext): Promise<Role[]> {
  if (auth.userId) return (await a.store.getUser(auth.orgId, auth.userId))?.roles ?? [];
  return (await a.store.getClient(auth.clientId))?.roles ?? [];
}

export function requireRole(a: Authority, role: Role) {
  return async function requireOrgRole(request: FastifyRequest) {
    const roles = await rolesOf(a, request.auth);
    if (!roles.includes(role)) throw Forbidden(`This requires the ${role} role`);
  };
}
