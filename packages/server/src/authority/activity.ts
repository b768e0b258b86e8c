import { idleDeadline, type LiveToken } from '../core/live-token.ts';
import type { Store } from '../store/store.ts';

export const ACTIVITY_FLUSH_MS = 1000;
const URGENT_WITHIN_MS = 3 * ACTIVITY_FLUSH_MS;

/**
 * Records API activity per token in memory and writes it back coalesced with the idle deadline it
 * gives, at most once per token per flush interval; a crash loses at most one interval of activity.
 * What counts as activity is the idle policy's (`countsAsActivity`).
 */
export class ActivityRecorder {
  readonly #dirty = new Map<string, LiveToken>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
  ) {}

  record(token: LiveToken, now: number): void {
    const previous = token.lastActivityAt;
    if (now > previous) token.lastActivityAt = now;
    this.#dirty.set(token.id, token);
    // The stored deadline is at most a flush interval older than `previous` + timeout. When that is close, another
    // node's expirer could act on it before the next flush: write now, so activity through this node always counts.
    if (token.idleTimeoutMs != null && previous + token.idleTimeoutMs - now < URGENT_WITHIN_MS) void this.flush();
  }

  /** The token's idle timeout changed (settings, groups, an exemption): its deadline is written with the next flush. */
  retimed(token: LiveToken): void {
    this.#dirty.set(token.id, token);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), ACTIVITY_FLUSH_MS).unref();
  }

  flush(): Promise<void> {
    if (!this.#dirty.size) return this.#flushing;
    const batch = [...this.#dirty.values()].map((t) => ({ id: t.id, lastActivityAt: t.lastActivityAt, idleDeadlineAt: idleDeadline(t) }));
    this.#dirty.clear();
    this.#flushing = this.#flushing.then(() => this.store.recordActivity(batch)).catch(this.onError);
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
