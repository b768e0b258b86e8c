import type { LiveToken } from '../core/live-token.ts';
import type { AccessToken, RevokeReason } from '../store/records.ts';
import type { Store } from '../store/store.ts';

/**
 * Access tokens by hash, in memory, so the hot path reads no database on a hit.
 * Revocation marks entries in place before the revoking call returns; the loader
 * re-reads if a revocation landed while it was reading, so a stale "live" row never
 * enters the cache after the revoke.
 */
export class AccessTokenCache {
  readonly #byHash = new Map<string, LiveToken>();
  #revocations = 0;

  constructor(
    private readonly store: Store,
    private readonly idleTimeoutOf: (token: AccessToken) => Promise<number | null>,
  ) {}

  get size() {
    return this.#byHash.size;
  }

  peek(hash: string): LiveToken | undefined {
    return this.#byHash.get(hash);
  }

  async get(hash: string): Promise<LiveToken | null> {
    const hit = this.#byHash.get(hash);
    if (hit) return hit;
    for (;;) {
      const seen = this.#revocations;
      const record = await this.store.findAccessTokenByHash(hash);
      if (!record) return null;
      const idleTimeoutMs = record.revokedAt == null ? await this.idleTimeoutOf(record) : null;
      if (seen !== this.#revocations) continue;
      const raced = this.#byHash.get(hash);
      if (raced) return raced;
      const live: LiveToken = { ...record, idleTimeoutMs };
      this.#byHash.set(hash, live);
      return live;
    }
  }

  add(token: LiveToken): void {
    this.#byHash.set(token.hash, token);
  }

  markRevoked(hashes: Iterable<string>, at: number, reason: RevokeReason): void {
    this.#revocations++;
    for (const hash of hashes) {
      const entry = this.#byHash.get(hash);
      if (entry && entry.revokedAt == null) {
        entry.revokedAt = at;
        entry.revokeReason = reason;
      }
    }
  }

  /** Every cached token matching `filter`; used when a setting changes and idle timeouts must be recomputed. */
  *entries(filter: (t: LiveToken) => boolean): Iterable<LiveToken> {
    for (const t of this.#byHash.values()) if (filter(t)) yield t;
  }

  delete(hash: string): void {
    this.#byHash.delete(hash);
  }
}
