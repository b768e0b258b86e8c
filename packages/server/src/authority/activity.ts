import { idleDeadline, type LiveToken } from '../core/live-token.ts';
import type { Store } from '../store/store.ts';

export const ACTIVITY_FLUSH_MS = 1000;

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
    if (now > token.lastActivityAt) token.lastActivityAt = now;
    this.#dirty.set(token.id, token);
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
