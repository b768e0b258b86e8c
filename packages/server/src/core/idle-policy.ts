import { BadRequest, Conflict } from './errors.ts';
import { pathParts, type PathPattern } from './path-pattern.ts';
import type { IdleTimeoutSettings, INTERACTION_STATES, INTERACTION_TYPES } from './records.ts';

export const IDLE_TIMEOUT_MAX_SECONDS = 28_800;
export const HIPAA_MAX_SECONDS = 900;

/** A call made with a token, as the idle policy sees it. */
export interface TokenUse {
  method: string;
  /** The path without its query. */
  path: string;
  /** The query without its `?` ('' when none). */
  query: string;
  /** The caller said `Lockstep-Activity: background`: polling, not the user. */
  background: boolean;
}

const PRESERVE_IDLE_TTL = /(?:^|&)preserveIdleTTL=true(?:&|$)/;

/**
 * Whether a call resets its token's idle clock: every API call but a heartbeat
 * (`/api/v2/tokens/me?preserveIdleTTL=true`), a background call, and the org's excluded paths.
 * Notification-channel traffic never comes here.
 */
export function countsAsActivity(use: TokenUse, excluded: readonly PathPattern[] | undefined): boolean {
  if (use.background) return false;
  if (use.path === '/api/v2/tokens/me' && PRESERVE_IDLE_TTL.test(use.query)) return false;
  if (!excluded?.length) return true;
  const parts = pathParts(use.path);
  return !excluded.some((pattern) => pattern.matches(parts));
}

/** A connected or held voice or email interaction, or after-call work, keeps the agent's tokens from idling out. Chat never does. */
export function exemptsFromIdleTimeout(i: { type: (typeof INTERACTION_TYPES)[number]; state: (typeof INTERACTION_STATES)[number] }): boolean {
  return i.type !== 'chat' && (i.state === 'connected' || i.state === 'held' || i.state === 'acw');
}

/**
 * The idle timeout that applies to a token, in seconds, or null when none does.
 * A user in several bundles' groups gets the bundle with the lowest priority number;
 * everyone else (and client-credentials tokens) gets the org's timeout.
 */
export function idleTimeoutSecondsFor(s: IdleTimeoutSettings, userGroupIds: readonly string[] | null): number | null {
  if (!s.enableIdleTokenTimeout) return null;
  if (s.inactivityTimeoutGroupsEnabled && userGroupIds?.length) {
    const mine = s.inactivityTimeoutGroupBundles
      .filter((b) => b.groups.some((g) => userGroupIds.includes(g)))
      .sort((x, y) => x.priority - y.priority)[0];
    if (mine) return mine.timeoutSeconds;
  }
  return s.idleTokenTimeoutSeconds;
}

function allTimeouts(s: IdleTimeoutSettings): { where: string; seconds: number }[] {
  return [
    { where: 'idleTokenTimeoutSeconds', seconds: s.idleTokenTimeoutSeconds },
    ...s.inactivityTimeoutGroupBundles.map((b, i) => ({ where: `inactivityTimeoutGroupBundles[${i}].timeoutSeconds`, seconds: b.timeoutSeconds })),
  ];
}

/** Checks a new setting against the range (floor is 300 s unless lowered for tests) and the HIPAA cap. */
export function checkIdleSettings(s: IdleTimeoutSettings, opts: { hipaa: boolean; floorSeconds: number }): void {
  const max = opts.hipaa ? HIPAA_MAX_SECONDS : IDLE_TIMEOUT_MAX_SECONDS;
  for (const t of allTimeouts(s)) {
    if (!Number.isInteger(t.seconds) || t.seconds < opts.floorSeconds || t.seconds > max) {
      throw BadRequest(
        opts.hipaa && t.seconds > HIPAA_MAX_SECONDS
          ? `${t.where} is ${t.seconds} s; while HIPAA is enabled the idle timeout can be at most ${HIPAA_MAX_SECONDS} s (15 minutes)`
          : `${t.where} must be from ${opts.floorSeconds} to ${IDLE_TIMEOUT_MAX_SECONDS} seconds, got ${t.seconds}`,
      );
    }
  }
  const priorities = s.inactivityTimeoutGroupBundles.map((b) => b.priority);
  if (new Set(priorities).size !== priorities.length) throw BadRequest('inactivityTimeoutGroupBundles must have distinct priorities');
}

/** Turning HIPAA on is refused while any configured timeout is above its cap: the admin must lower it first. */
export function checkHipaaCanBeEnabled(s: IdleTimeoutSettings): void {
  const over = allTimeouts(s).filter((t) => t.seconds > HIPAA_MAX_SECONDS);
  if (over.length) {
    throw Conflict(
      `HIPAA caps the idle timeout at ${HIPAA_MAX_SECONDS} s (15 minutes). Lower ${over.map((t) => `${t.where} (now ${t.seconds} s)`).join(', ')} to ${HIPAA_MAX_SECONDS} s or less first, then enable HIPAA`,
    );
  }
}
