import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { PurgeCounts, Store } from '../store/store.ts';

/** How long an expired or ended row is kept (answers like "revoked" rather than "unknown" for a while, and audit links). */
export const RETENTION_GRACE_MS = 7 * 24 * 3600_000;
const PURGE_EVERY_MS = 3600_000;

/** The retention job: hourly, it deletes rows that expired or ended more than the grace period ago. */
export class Retention {
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { store: Store; clock: Clock; log: Logger }) {}

  async purge(): Promise<PurgeCounts> {
    const counts = await this.deps.store.purgeExpired(this.deps.clock.now() - RETENTION_GRACE_MS);
    if (Object.values(counts).some(Boolean)) this.deps.log.info({ purged: counts }, 'expired rows purged');
    return counts;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.purge().catch((err) => this.deps.log.error({ err }, 'retention purge failed')), PURGE_EVERY_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
