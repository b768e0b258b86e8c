import { isIP } from 'node:net';
import type { Clock } from './clock.ts';
import { sha256 } from './secrets.ts';

/** How many attempts one key gets for free, and how long each further attempt must wait after the one before. */
export interface BackoffLimits {
  /** Attempts counted before any delay applies. */
  free: number;
  /** The delay after the last free attempt; it doubles with every further attempt... */
  baseDelayMs: number;
  /** ...up to this cap, so an attacker can delay the owner of an account by at most this much. */
  maxDelayMs: number;
}

/** Per account (email, case-insensitive): against guessing one account's password from many addresses. */
export const ACCOUNT_LIMITS: BackoffLimits = { free: 5, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 };
/** Per client address: against spraying guesses over many accounts from one address. */
export const ADDRESS_LIMITS: BackoffLimits = { free: 20, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 };
/** A key with no counted attempt for this long is forgotten. */
export const FORGET_AFTER_MS = 60 * 60_000;
/** The most keys one table tracks (about 200 bytes each); the least recently counted go first. */
export const MAX_TRACKED_KEYS = 50_000;

interface Entry {
  /** Attempts counted (reserved) and not refunded. */
  count: number;
  /** When the last one was counted. */
  last: number;
}

/**
 * Counted attempts per key with exponential back-off. The Map is kept in order of the last counted
 * attempt (an entry is re-inserted when counted), so the oldest entries are at its front: expired
 * ones are dropped from there as new keys come, and when the table is full the least recently
 * counted key is evicted, so keys sprayed by an attacker cannot grow memory without bound.
 */
export class BackoffTable {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: BackoffLimits,
    private readonly maxKeys = MAX_TRACKED_KEYS,
    private readonly forgetAfterMs = FORGET_AFTER_MS,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds before the next attempt for `key` may be counted; 0 when it may be now. */
  waitMs(key: string, now = this.clock.now()): number {
    const e = this.#current(key, now);
    if (!e || e.count < this.limits.free) return 0;
    const delay = Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(e.count - this.limits.free, 30));
    return Math.max(0, e.last + delay - now);
  }

  /** Counts an attempt for `key` now (the caller checked waitMs first). */
  count(key: string, now = this.clock.now()): void {
    const e = this.#current(key, now);
    this.#entries.delete(key);
    if (!e) this.#makeRoom(now);
    this.#entries.set(key, { count: (e?.count ?? 0) + 1, last: now });
  }

  /** Gives back one counted attempt (it succeeded); the back-off of earlier attempts stays. */
  refund(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    if (e.count <= 1) this.#entries.delete(key);
    else e.count--;
  }

  clear(key: string): void {
    this.#entries.delete(key);
  }

  #current(key: string, now: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && now - e.last > this.forgetAfterMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #makeRoom(now: number) {
    for (const [key, e] of this.#entries) {
      if (this.#entries.size < this.maxKeys && now - e.last <= this.forgetAfterMs) break;
      this.#entries.delete(key);
    }
  }
}

/** One reserved sign-in attempt; settle it once the password was checked. */
export interface LoginAttempt {
  /** The password was right: the account's count is cleared and the address gets its attempt back. */
  succeeded(): void;
  /** The password (or the email) was wrong: the attempt stays counted. */
  failed(): void;
}

export type Reservation = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfterMs: number };

/**
 * The address a client is counted under: an IPv4-mapped IPv6 address as its IPv4 address, any other
 * IPv6 address by its /64 (one host usually holds a whole /64, so it cannot step through it).
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown'; // a socket already gone
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  const bare = ip.split('%')[0]!.toLowerCase(); // no zone index
  if (isIP(bare) !== 6 || bare.includes('.')) return bare; // IPv4, or IPv6 with an embedded IPv4 tail (rare): kept whole
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Brute-force brake for the login form, counted per account (email, case-insensitive, known or
 * not) and per client address, separately. An attempt is counted when it is reserved, before the
 * password hash runs, so parallel guesses cannot all be evaluated: once a key has used its free
 * attempts, only one attempt per back-off delay gets through (1 s, 2 s, 4 s ... capped at a few
 * minutes) and the rest are refused without a hash and without counting. A refused attempt does
 * not prolong the delay, so an attacker cannot lock an account's owner out for long.
 */
export class LoginThrottle {
  readonly accounts: BackoffTable;
  readonly addresses: BackoffTable;

  constructor(private readonly clock: Clock, opts: { maxKeys?: number } = {}) {
    this.accounts = new BackoffTable(clock, ACCOUNT_LIMITS, opts.maxKeys);
    this.addresses = new BackoffTable(clock, ADDRESS_LIMITS, opts.maxKeys);
  }

  /** Counts an attempt for `email` from `ip` now, or says how long until one would be counted. Synchronous: call it before any await. */
  reserve(email: string, ip: string): Reservation {
    const now = this.clock.now();
    const account = sha256(email.trim().toLowerCase()); // fixed-size keys, whatever length the email has
    const address = addressKey(ip);
    const retryAfterMs = Math.max(this.accounts.waitMs(account, now), this.addresses.waitMs(address, now));
    if (retryAfterMs > 0) return { ok: false, retryAfterMs };
    this.accounts.count(account, now);
    this.addresses.count(address, now);
    let settled = false;
    return {
      ok: true,
      attempt: {
        succeeded: () => {
          if (settled) return;
          settled = true;
          this.accounts.clear(account);
          this.addresses.refund(address);
        },
        failed: () => {
          settled = true;
        },
      },
    };
  }
}
