import type { SignOutReason } from './types.ts';
import { parseChallenge } from './www-authenticate.ts';

/**
 * Why Lockstep refused the bearer token: the stable `code` of a 401 (`token.revoked`, `token.idle_timeout`, ...) and,
 * for a revocation, its `reason`. Both are in `WWW-Authenticate` (so a HEAD answer carries them too) and in the JSON body.
 */
export interface TokenRefusal {
  code: string | null;
  reason: string | null;
}

/** The reasons a `token.revoked` can name, each a SignOutReason of the same name. */
const REVOKE_REASONS: ReadonlySet<string> = new Set<SignOutReason>([
  'logout', 'universal_logout', 'admin_logoff', 'global_revocation', 'revocation', 'refresh_reuse',
  'user_deleted', 'client_deleted', 'idp_logout', 'scheduled_logout', 'idle_timeout',
]);

/** Codes of a token the server never knew or could not read: at start, a stored token like that is just dropped. */
const INVALID: ReadonlySet<string> = new Set(['token.unknown', 'token.malformed', 'token.missing']);

/**
 * Reads a 401. null: a challenge of another scheme than Bearer (Basic...), which is not about this SDK's token.
 * The response body is read from a clone, so the caller can still read it.
 */
export async function readRefusal(response: Response): Promise<TokenRefusal | null> {
  const challenge = parseChallenge(response.headers.get('www-authenticate'));
  if (challenge && challenge.scheme !== 'bearer') return null;
  const fromHeader = { code: challenge?.params.code ?? null, reason: challenge?.params.reason ?? null };
  if (fromHeader.code) return fromHeader;
  const body = (await response.clone().json().catch(() => null)) as { code?: unknown; reason?: unknown } | null;
  return {
    code: typeof body?.code === 'string' ? body.code : null,
    reason: fromHeader.reason ?? (typeof body?.reason === 'string' ? body.reason : null),
  };
}

/**
 * The sign-out reason of a refusal. null: `token.revoked` without a reason this SDK knows — the channel may name it.
 * A code this SDK does not know (or no code) is `unknown`: the token is unusable all the same.
 *
 * @example signOutReasonOf({ code: 'token.revoked', reason: 'admin_logoff' }) // 'admin_logoff'
 */
export function signOutReasonOf(refusal: TokenRefusal): SignOutReason | null {
  switch (refusal.code) {
    case 'token.idle_timeout':
      return 'idle_timeout';
    case 'token.expired':
      return 'expired';
    case 'token.revoked':
      return refusal.reason && REVOKE_REASONS.has(refusal.reason) ? (refusal.reason as SignOutReason) : null;
    case 'token.unknown':
    case 'token.malformed':
    case 'token.missing':
      return 'invalid_token';
    default:
      return 'unknown';
  }
}

/** True for a token the server does not know at all (as opposed to one that ended). */
export const isInvalidToken = (refusal: TokenRefusal) => refusal.code != null && INVALID.has(refusal.code);
