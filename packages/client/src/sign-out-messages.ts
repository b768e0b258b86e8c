import type { SignOutReason } from './types.ts';

/**
 * The sentence to show a user whose session ended.
 *
 * @example describeSignOut({ reason: 'idle_timeout', selfInitiated: false, idleTimeoutMinutes: 15 })
 * // "Signed out after 15 minutes without activity"
 */
export function describeSignOut(e: { reason: SignOutReason; selfInitiated: boolean; idleTimeoutMinutes: number | null }): string {
  switch (e.reason) {
    case 'logout':
    case 'universal_logout':
      return e.selfInitiated ? 'You signed out' : 'You signed out in another app';
    case 'idle_timeout':
      return e.idleTimeoutMinutes == null
        ? 'Signed out after a period without activity'
        : `Signed out after ${minutes(e.idleTimeoutMinutes)} without activity`;
    case 'admin_logoff':
      return 'An administrator signed you out';
    case 'global_revocation':
      return "Your organization's identity provider signed you out";
    case 'idp_logout':
      return 'Your identity provider signed you out';
    case 'scheduled_logout':
      return 'Your organization signed you out at the scheduled time';
    case 'expired':
      return 'Your session expired';
    case 'revocation':
      return 'Your session was revoked';
    case 'refresh_reuse':
      return 'You were signed out for your security: your session was used in two places';
    case 'user_deleted':
      return 'Your account was removed';
    case 'client_deleted':
      return 'This app was removed from your organization';
    case 'invalid_token':
      return 'Your session is no longer valid';
    case 'unknown':
      return 'Your session ended';
  }
}

/** 15 → "15 minutes"; under a minute (demo settings) in seconds. */
function minutes(n: number): string {
  if (n < 1) {
    const seconds = Math.max(1, Math.round(n * 60));
    return seconds === 1 ? '1 second' : `${seconds} seconds`;
  }
  const rounded = Math.round(n * 10) / 10;
  return rounded === 1 ? '1 minute' : `${rounded} minutes`;
}

const REASONS: readonly SignOutReason[] = [
  'logout', 'universal_logout', 'idle_timeout', 'admin_logoff', 'global_revocation', 'expired', 'revocation', 'refresh_reuse',
  'user_deleted', 'client_deleted', 'idp_logout', 'scheduled_logout', 'invalid_token', 'unknown',
];

export function isSignOutReason(value: unknown): value is SignOutReason {
  return REASONS.includes(value as SignOutReason);
}
