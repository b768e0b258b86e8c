/**
 * Full-jitter exponential backoff: a uniformly random delay in [0, min(cap, base·2^attempt)).
 * Spreads the reconnects of many clients (say, right after a server restart) over the whole window.
 *
 * @example fullJitterDelay(0, 500, 30_000) // somewhere in [0, 500)
 */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_CAP_MS = 30_000;
