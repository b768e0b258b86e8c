import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import type { Admission } from '../authority/ledger.ts';
import { Forbidden, TokenRefused } from '../core/errors.ts';
import type { TokenUse } from '../core/idle-policy.ts';
import { endedVerdict, refusal, type LiveToken } from '../core/live-token.ts';
import { sha256 } from '../core/secrets.ts';
import { errorBody } from './error-body.ts';
import { overRequestBudget } from './request-limits.ts';
import { IDLE_EXPIRES_HEADER, wwwAuthenticate } from './token-answers.ts';
import type { Role } from '../core/records.ts';

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

/** The idle policy's view of a request: method, path, query and whether the caller marked it background. */
function useOf(request: FastifyRequest): TokenUse {
  const url = request.url;
  const q = url.indexOf('?');
  return {
    method: request.method, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1),
    background: request.headers['lockstep-activity'] === 'background',
  };
}

/**
 * Hot path: the ledger admits the token (one hash, one map lookup, one in-memory activity mark), then the
 * token's request budget is spent.
 * Callback-style so a cached token costs no promise; only a miss reads the store.
 */
export function authenticate(a: Authority) {
  function answer(request: FastifyRequest, reply: FastifyReply, admission: Admission): Error | undefined {
    if (!admission.admitted) return admission.refusal;
    const { token } = admission;
    request.auth = { token, orgId: token.orgId, userId: token.userId, clientId: token.clientId };
    if (admission.idleExpiresAt != null) reply.header(IDLE_EXPIRES_HEADER, isoOf(admission.idleExpiresAt));
    return overRequestBudget(token, admission.at, reply);
  }

  return function authenticateBearer(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    let raw: string | null;
    try {
      raw = bearerToken(request);
    } catch (err) {
      return done(err as Error);
    }
    if (!raw) return done(TokenRefused('token.missing', 'An access token is required: Authorization: Bearer <token>'));
    const admission = a.ledger.admit(sha256(raw), useOf(request));
    if (!(admission instanceof Promise)) return done(answer(request, reply, admission));
    admission.then((result) => done(answer(request, reply, result)), done);
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
