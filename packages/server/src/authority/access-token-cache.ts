import type { LiveToken } from '../core/live-token.ts';
import type { AccessToken, RevokeReason } from '../core/records.ts';
import type { Store } from '../store/store.ts';

/**
 * Access tokens by hash, in memory, so the hot path reads no database on a hit. A token enters when
 * this node issues it, reads it on a miss, or adopts it past its deadline (the expirer's store sweep),
 * so the cache follows this node's traffic. Revocation marks entries in place before the revoking call
 * returns (on other nodes, as they apply the cluster log); the loader
 * re-reads if a revocation landed while it was reading, so a stale "live" row never enters
 * the cache after the revoke.
 */
export class AccessTokenCache {
  readonly #byHash = new Map<string, LiveToken>();
  /**
   * A user's tokens: a user holds a few, so an exact-size array, copied on each change (a third of a Set's bytes, and
   * whoever iterates one keeps the array it started with).
   */
  readonly #byUser = new Map<string, LiveToken[]>();
  #revocations = 0;
  /** Called for every token that enters the cache (the expirer schedules it). */
  onTrack: (token: LiveToken) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly idleTimeoutOf: (token: AccessToken) => Promise<number | null>,
  ) {}

  get size() {
    return this.#byHash.size;
  }

  /** The cached token, without reading the store: the hot path's first try. */
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
      return this.#byHash.get(hash) ?? this.#track(live(record, idleTimeoutMs));
    }
  }

  /** Adds a token just issued (its idle timeout already resolved) or loaded at start. */
  async add(record: AccessToken, idleTimeoutMs?: number | null): Promise<LiveToken> {
    idleTimeoutMs ??= record.revokedAt == null ? await this.idleTimeoutOf(record) : null;
    return this.#byHash.get(record.hash) ?? this.#track(live(record, idleTimeoutMs));
  }

  #track(token: LiveToken): LiveToken {
    this.#byHash.set(token.hash, token);
    if (token.userId) {
      const tokens = this.#byUser.get(token.userId);
      this.#byUser.set(token.userId, tokens ? tokens.concat(token) : [token]);
    }
    this.onTrack(token);
    return token;
  }

  markRevoked(hashes: Iterable<string>, at: number, reason: RevokeReason): void {
    this.#revocations++;
    for (const hash of hashes) {
      const entry = this.#byHash.get(hash);
      if (entry && entry.revokedAt == null) {
        entry.revokedAt = at;
        entry.revokeReason = reason;
        this.onTrack(entry);
      }
    }
  }

  ofUser(userId: string): Iterable<LiveToken> {
    return this.#byUser.get(userId) ?? [];
  }

  *ofOrg(orgId: string): Iterable<LiveToken> {
    for (const t of this.#byHash.values()) if (t.orgId === orgId) yield t;
  }

  delete(token: LiveToken): void {
    this.#byHash.delete(token.hash);
    const tokens = token.userId ? this.#byUser.get(token.userId) : undefined;
    const i = tokens ? tokens.indexOf(token) : -1;
    if (i < 0) return;
    if (tokens!.length === 1) this.#byUser.delete(token.userId!);
    else this.#byUser.set(token.userId!, tokens!.slice(0, i).concat(tokens!.slice(i + 1))); // concat and slice allocate exactly
  }
}

/**
 * Every field named, in one order: all cached tokens share one hidden class with in-object fields. A spread of
 * the record gave each its own (a map, a descriptor array and a property array: 640 of its 970 heap bytes).
 * The stored deadline is not carried: in memory it follows from last activity and the timeout (`idleDeadline`).
 */
function live(r: AccessToken, idleTimeoutMs: number | null): LiveToken {
  return {
    id: r.id, hash: r.hash, orgId: r.orgId, userId: r.userId, clientId: r.clientId, sessionId: r.sessionId, grantId: r.grantId, scope: r.scope,
    issuedAt: r.issuedAt, expiresAt: r.expiresAt, lastActivityAt: r.lastActivityAt, revokedAt: r.revokedAt, revokeReason: r.revokeReason,
    idleTimeoutMs, scheduledAt: null, requestsInWindow: 0, windowStartedAt: 0,
  };
}
