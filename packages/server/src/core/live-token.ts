import type { AccessToken } from '../store/records.ts';

/** An access token as the hot path sees it: the stored record plus what is only kept in memory. */
export interface LiveToken extends AccessToken {
  /** Idle timeout that applies to this token, or null when none does (resolved from org, groups, exemptions). */
  idleTimeoutMs: number | null;
  /** When the idle expirer will next look at this token (its entry in the deadline heap), or null. */
  scheduledAt: number | null;
}

export type TokenVerdict =
  | { live: true }
  | { live: false; problem: 'revoked' | 'expired' | 'idle_timeout'; description: string };

export function idleDeadline(t: LiveToken): number | null {
  return t.idleTimeoutMs == null ? null : t.lastActivityAt + t.idleTimeoutMs;
}

const LIVE: TokenVerdict = { live: true };

/** Is this token usable at `now`? Pure: the idle deadline is checked here, so a token is refused even before any sweeper ran. */
export function judgeToken(t: LiveToken, now: number): TokenVerdict {
  if (t.revokedAt != null) {
    if (t.revokeReason === 'idle_timeout') return { live: false, problem: 'idle_timeout', description: 'The access token expired after the idle timeout' };
    return { live: false, problem: 'revoked', description: 'The access token has been revoked' };
  }
  if (now >= t.expiresAt) return { live: false, problem: 'expired', description: 'The access token has expired' };
  const idle = idleDeadline(t);
  if (idle != null && now >= idle) return { live: false, problem: 'idle_timeout', description: 'The access token expired after the idle timeout' };
  return LIVE;
}
