import type { FastifyRequest } from 'fastify';
import type { LiveToken } from '../core/live-token.ts';
import type { Store } from '../store/store.ts';

export const ACTIVITY_FLUSH_MS = 1000;

/**
 * Records API activity per token in memory and writes it back coalesced, at most once per
 * token per flush interval; a crash loses at most one interval of activity.
 */
export class ActivityRecorder {
  readonly #dirty = new Map<string, LiveToken>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether this request resets the token's idle clock (DESIGN.md: every API call but these). */
  counts(_token: LiveToken, request: FastifyRequest): boolean {
    const query = request.query as Record<string, unknown> | undefined;
    return !(query?.preserveIdleTTL === 'true' && request.method === 'GET');
  }

  record(token: LiveToken, now: number): void {
    if (now > token.lastActivityAt) token.lastActivityAt = now;
    this.#dirty.set(token.id, token);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), ACTIVITY_FLUSH_MS).unref();
  }

  flush(): Promise<void> {
    if (!this.#dirty.size) return this.#flushing;
    const batch = [...this.#dirty.values()].map((t) => ({ id: t.id, lastActivityAt: t.lastActivityAt }));
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
