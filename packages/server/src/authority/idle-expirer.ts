import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { DeadlineHeap } from '../core/deadline-heap.ts';
import { idleDeadline, idleExpiresAt, judgeToken, type LiveToken } from '../core/live-token.ts';
import type { AccessToken, IdleExpiry } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import type { AccessTokenCache } from './access-token-cache.ts';
import { ACTIVITY_FLUSH_MS } from './activity.ts';
import type { Ended } from './ledger.ts';
import type { Metrics } from './metrics.ts';
import { LIFETIMES } from '../core/lifetimes.ts';

export const SWEEP_INTERVAL_MS = 200;
/** How often the store is asked for tokens past their deadline that no node's memory holds (issued by a node gone since, say). */
export const STORE_SWEEP_INTERVAL_MS = 1000;
const BATCH = 2000;
const KEEP_REVOKED_MS = LIFETIMES.revokedTokenInMemoryMs;

/**
 * Ends tokens at their idle deadline even when nobody calls: one heap entry per token this node holds
 * at its next deadline, swept every 200 ms; each sweep's expiries commit in one transaction. Every second
 * the store is asked for due tokens held nowhere; they are adopted (timed afresh) and swept the same way.
 * The store's guard makes each expiry happen once, whichever nodes try.
 */
export class IdleExpirer {
  readonly #heap = new DeadlineHeap<LiveToken>();
  #sweeping: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #storeTimer: NodeJS.Timeout | null = null;
  /** Observers of each expiry (benchmarks measure lateness with it). */
  onExpired: (token: LiveToken, deadline: number, noticedAt: number) => void = () => {};

  constructor(
    private readonly deps: {
      store: Store; clock: Clock; tokens: AccessTokenCache; log: Logger;
      metrics: Pick<Metrics, 'logouts' | 'idleExpiries' | 'expiryLateness'>;
      announce: (ended: Ended) => Promise<void>;
      /** Writes this node's pending activity, so the store's deadlines are as late as what this node saw. */
      flushActivity: () => Promise<void>;
      /** Takes a stored token into memory (its timeout resolved now, its stored deadline corrected if need be) and schedules it. */
      adopt: (record: AccessToken) => Promise<unknown>;
    },
  ) {}

  /** (Re)schedules a token at its next event; an earlier entry already queued will reschedule it when it comes due. */
  schedule(t: LiveToken, notBefore = 0): void {
    const at = Math.max(nextCheck(t), notBefore);
    if (t.scheduledAt != null && t.scheduledAt <= at) return;
    t.scheduledAt = at;
    this.#heap.push(at, t);
    // An earlier-moved deadline leaves its old entry behind (a revoked token's at its expiry, a day away), holding
    // the token: once stale entries pass a quarter of the tracked tokens, drop them (O(n) every n/4 pushes at most).
    if (this.#heap.size > 1.25 * this.deps.tokens.size + 1024) this.#heap.retain((at, token) => at === token.scheduledAt);
  }

  /** Entries waiting in the deadline heap (live and stale). */
  get queued(): number {
    return this.#heap.size;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
    this.#storeTimer ??= setInterval(() => void this.adoptDue().catch((err) => this.deps.log.error({ err }, 'store sweep failed')), STORE_SWEEP_INTERVAL_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#storeTimer) clearInterval(this.#storeTimer);
    this.#timer = this.#storeTimer = null;
    await this.#sweeping;
  }

  /** Expires everything due now. Concurrent callers share one sweep; callers that must not see a stale session await it. */
  sweep(): Promise<void> {
    if (this.#heap.peekTime() == null || this.#heap.peekTime()! > this.deps.clock.now()) return this.#sweeping ?? Promise.resolve();
    return (this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = null)));
  }

  /** Adopts the store's due tokens this node does not hold, then sweeps. */
  async adoptDue(): Promise<void> {
    const { store, tokens, clock, adopt } = this.deps;
    for (const record of await store.dueIdleTokens(clock.now(), BATCH)) if (!tokens.peek(record.hash)) await adopt(record);
    await this.sweep();
  }

  async #sweep(): Promise<void> {
    const { tokens, clock } = this.deps;
    const now = clock.now();
    const due: LiveToken[] = [];
    for (let entry = this.#heap.popDue(now); entry; entry = this.#heap.popDue(now)) {
      const [at, t] = entry;
      if (at !== t.scheduledAt) continue;
      t.scheduledAt = null;
      if (t.revokedAt != null ? now >= t.revokedAt + KEEP_REVOKED_MS : now >= t.expiresAt) tokens.delete(t);
      else if (t.revokedAt == null && !judgeToken(t, now).live) due.push(t);
      else this.schedule(t);
    }
    if (due.length) await this.deps.flushActivity();
    // A batch's announcements go out while the next batch commits: a backlog drains at the store's pace.
    const announcing: Promise<void>[] = [];
    try {
      for (let i = 0; i < due.length; i += BATCH) {
        try {
          await this.#expire(due.slice(i, i + BATCH), now, announcing);
        } catch (err) {
          this.deps.log.error({ err }, 'idle expiry failed; retrying on the next sweep');
          due.slice(i).forEach((t) => this.schedule(t));
          return;
        }
      }
    } finally {
      await Promise.all(announcing);
    }
  }

  /** Ends the batch in the store; returns once it has, its announcements added to `announcing`, under way. */
  async #expire(batch: LiveToken[], now: number, announcing: Promise<void>[]): Promise<void> {
    const { store, announce, metrics } = this.deps;
    const items: IdleExpiry[] = batch.map((t) => ({ token: t, deadline: idleDeadline(t)! }));
    const expired = new Map((await store.expireIdleTokens(items, now)).map((e) => [e.id, e]));
    // Announced together: on a cluster they travel in a few bus messages.
    const offline = new Set<string>(); // the store says so for each of a user's tokens; the user goes Offline once
    for (const item of items) {
      const t = item.token as LiveToken;
      const ended = expired.get(t.id);
      if (!ended) {
        await this.#confirm(t, now);
        continue;
      }
      announcing.push(announce({
        orgId: t.orgId, userId: t.userId, reason: 'idle_timeout', initiatingClientId: null, at: now,
        tokens: [{ id: t.id, hash: t.hash, clientId: t.clientId }],
        userOffline: ended.userOffline && t.userId != null && !offline.has(t.userId) && !!offline.add(t.userId),
      }));
      metrics.idleExpiries.inc();
      metrics.logouts.inc({ reason: 'idle_timeout' });
      metrics.expiryLateness.observe(Math.max(0, now - item.deadline) / 1000);
      this.onExpired(t, item.deadline, now);
    }
  }

  /**
   * The store kept a token this node saw as idle: activity elsewhere moved its deadline, an exemption
   * lifted it, or it ended another way. Memory takes the store's word; a retry waits a flush interval.
   */
  async #confirm(t: LiveToken, now: number): Promise<void> {
    const { store, tokens } = this.deps;
    const stored = await store.findAccessTokenByHash(t.hash);
    if (!stored) return tokens.delete(t);
    if (stored.revokedAt != null) return tokens.markRevoked([t.hash], stored.revokedAt, stored.revokeReason ?? 'revocation');
    if (stored.lastActivityAt > t.lastActivityAt) t.lastActivityAt = stored.lastActivityAt;
    this.schedule(t, now + ACTIVITY_FLUSH_MS);
  }
}

function nextCheck(t: LiveToken): number {
  if (t.revokedAt != null) return t.revokedAt + KEEP_REVOKED_MS;
  return idleExpiresAt(t) ?? t.expiresAt;
}
