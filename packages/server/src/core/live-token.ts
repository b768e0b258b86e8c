import { TokenRefused, type ApiError } from './errors.ts';
import type { AccessToken } from './records.ts';

/** An access token as the hot path sees it: the stored record plus what is only kept in memory. */
export interface LiveToken extends Omit<AccessToken, 'idleDeadlineAt'> {
  /** Idle timeout that applies to this token, or null when none does (resolved from org, groups, exemptions). */
  idleTimeoutMs: number | null;
  /** When the idle expirer will next look at this token (its entry in the deadline heap), or null. */
  scheduledAt: number | null;
  /** This node's count of the token's API requests in the current minute (requestBudget), and when that minute began. */
  requestsInWindow: number;
  windowStartedAt: number;
}

/**
 * Spends one API request of the token's budget (`perMinute` a minute, fixed windows counted on the token:
 * no lookup, no allocation). Returns 0 when the request may go ahead, else how long until the window resets.
 */
export function spendRequest(t: LiveToken, now: number, perMinute: number): number {
  if (now - t.windowStartedAt >= 60_000) {
    t.windowStartedAt = now;
    t.requestsInWindow = 0;
  }
  return ++t.requestsInWindow <= perMinute ? 0 : t.windowStartedAt + 60_000 - now;
}

export type TokenVerdict =
  | { live: true }
  | { live: false; problem: 'revoked' | 'expired' | 'idle_timeout'; description: string };

export function idleDeadline(t: LiveToken): number | null {
  return t.idleTimeoutMs == null ? null : t.lastActivityAt + t.idleTimeoutMs;
}

/** When the token idles out, never after its absolute expiry; null when no idle timeout applies. What clients are told. */
export function idleExpiresAt(t: LiveToken): number | null {
  const idle = idleDeadline(t);
  return idle == null ? null : Math.min(idle, t.expiresAt);
}

const LIVE: TokenVerdict = { live: true };

/** Why a token that has been ended (revokedAt set) is refused: the idle expirer's end says idle_timeout, any other says revoked. */
export function endedVerdict(t: LiveToken): Extract<TokenVerdict, { live: false }> {
  if (t.revokeReason === 'idle_timeout') return { live: false, problem: 'idle_timeout', description: 'The access token expired after the idle timeout' };
  return { live: false, problem: 'revoked', description: 'The access token has been revoked' };
}

/** Is this token usable at `now`? Pure: the idle deadline is checked here, so a token is refused even before any sweeper ran. */
export function judgeToken(t: LiveToken, now: number): TokenVerdict {
  if (t.revokedAt != null) return endedVerdict(t);
  if (now >= t.expiresAt) return { live: false, problem: 'expired', description: 'The access token has expired' };
  const idle = idleDeadline(t);
  if (idle != null && now >= idle) return { live: false, problem: 'idle_timeout', description: 'The access token expired after the idle timeout' };
  return LIVE;
}

export const unknownToken = (): ApiError => TokenRefused('token.unknown', 'The access token is not known');

/** Why a token is refused, as the stable 401 code (and the revoke reason) clients switch on. */
export function refusal(token: LiveToken, verdict: Extract<TokenVerdict, { live: false }>): ApiError {
  return TokenRefused(`token.${verdict.problem}`, verdict.description, verdict.problem === 'revoked' ? token.revokeReason ?? undefined : undefined);
}
