import type { Clock } from './clock.ts';

const WINDOW_MS = 15 * 60_000;
const FREE_FAILURES = 5;

/**
 * Brute-force brake for the login form: after five failures for one key (an account or a
 * client address) within 15 minutes, each further attempt must wait, doubling from 1 s up to
 * the window. A success clears the account's count.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; first: number; last: number }>();

  constructor(private readonly clock: Clock) {}

  /** Milliseconds the caller must still wait before trying `key` again; 0 when allowed. */
  retryAfterMs(key: string): number {
    const f = this.#current(key);
    if (!f || f.count < FREE_FAILURES) return 0;
    const wait = Math.min(WINDOW_MS, 1000 * 2 ** (f.count - FREE_FAILURES));
    return Math.max(0, f.last + wait - this.clock.now());
  }

  fail(key: string): void {
    const now = this.clock.now();
    const f = this.#current(key);
    if (f) {
      f.count++;
      f.last = now;
    } else {
      this.#failures.set(key, { count: 1, first: now, last: now });
      if (this.#failures.size > 100_000) this.#prune(now);
    }
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }

  #current(key: string) {
    const f = this.#failures.get(key);
    if (f && this.clock.now() - f.first > WINDOW_MS) {
      this.#failures.delete(key);
      return undefined;
    }
    return f;
  }

  #prune(now: number) {
    for (const [key, f] of this.#failures) if (now - f.first > WINDOW_MS) this.#failures.delete(key);
  }
}
