import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { Forbidden, TokenRefused, type ApiError } from '../core/errors.ts';
import { endedVerdict, idleExpiresAt, judgeToken, type LiveToken, type TokenVerdict } from '../core/live-token.ts';
import { sha256 } from '../core/secrets.ts';
import { errorBody } from './error-body.ts';
import { IDLE_EXPIRES_HEADER, wwwAuthenticate } from './token-answers.ts';
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
  if (!match) throw TokenRefused('token.malformed', 'The Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/** Requests in the same millisecond share a deadline: one Date formatting for all of them. */
let lastIso = { ms: NaN, iso: '' };
function isoOf(ms: number): string {
  if (lastIso.ms !== ms) lastIso = { ms, iso: new Date(ms).toISOString() };
  return lastIso.iso;
}

/** Why a token is refused, as the stable 401 code (and the revoke reason) clients switch on. */
export function refusal(token: LiveToken, verdict: Extract<TokenVerdict, { live: false }>): ApiError {
  return TokenRefused(`token.${verdict.problem}`, verdict.description, verdict.problem === 'revoked' ? token.revokeReason ?? undefined : undefined);
}

/**
 * Hot path: one hash, one map lookup, one in-memory activity mark. Callback-style so a cache
 * hit costs no promise; only a miss reads the store.
 */
export function authenticate(a: Authority) {
  function admit(request: FastifyRequest, reply: FastifyReply, token: LiveToken | null): Error | undefined {
    if (!token) return TokenRefused('token.unknown', 'The access token is not known');
    const now = a.clock.now();
    const verdict = judgeToken(token, now);
    if (!verdict.live) {
      // Past its idle deadline but not swept yet: refused now, and the expirer runs at once for the events.
      if (verdict.problem === 'idle_timeout' && token.revokedAt == null) void a.expirer.sweep();
      return refusal(token, verdict);
    }
    request.auth = { token, orgId: token.orgId, userId: token.userId, clientId: token.clientId };
    if (a.activity.counts(token, request)) a.activity.record(token, now);
    const idle = idleExpiresAt(token);
    if (idle != null) reply.header(IDLE_EXPIRES_HEADER, isoOf(idle));
    return undefined;
  }

  return function authenticateBearer(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    let raw: string | null;
    try {
      raw = bearerToken(request);
    } catch (err) {
      return done(err as Error);
    }
    if (!raw) return done(TokenRefused('token.missing', 'An access token is required: Authorization: Bearer <token>'));
    const hash = sha256(raw);
    const cached = a.tokens.peek(hash);
    if (cached) return done(admit(request, reply, cached));
    a.tokens.get(hash).then((token) => done(admit(request, reply, token)), done);
  };
}

/**
 * Strictness: a request that passed the check before a concurrent revocation must not
 * answer success after that revocation returned.
 */
export function refuseIfRevokedMeanwhile(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) {
  const auth = request.auth as AuthContext | undefined;
  if (!auth || auth.endsOwnToken || auth.token.revokedAt == null || reply.statusCode >= 400) return done(null, payload);
  // The same answer as the next request with this token gets: an idle expiry that raced this request says so.
  const err = refusal(auth.token, endedVerdict(auth.token));
  reply.code(401).type('application/json; charset=utf-8').removeHeader(IDLE_EXPIRES_HEADER).header('www-authenticate', wwwAuthenticate(err));
  done(null, JSON.stringify(errorBody(err, request.id)));
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
