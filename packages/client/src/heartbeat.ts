import type { Clock } from './types.ts';

/**
 * The fallback token check while no channel is up (`HEAD /api/v2/tokens/me?preserveIdleTTL=true`): a client
 * that missed the channel's `token_revoked` still learns within one interval. It is never activity: with the
 * channel down, a token nobody uses still idles out on time. Runs only while `active`.
 */
export class FallbackHeartbeat {
  #active = false;
  #timer: unknown = null;
  #beating = false;

  constructor(private readonly clock: Clock, private readonly intervalMs: number, private readonly beat: () => Promise<void>) {}

  get active(): boolean {
    return this.#active;
  }

  setActive(active: boolean): void {
    if (active === this.#active) return;
    this.#active = active;
    if (active) this.#schedule();
    else this.#cancel();
  }

  #schedule(): void {
    this.#cancel();
    this.#timer = this.clock.setTimeout(() => void this.#run(), this.intervalMs);
  }

  async #run(): Promise<void> {
    this.#timer = null;
    if (!this.#active || this.#beating) return;
    this.#beating = true;
    try {
      await this.beat();
    } catch {
      // offline: try again next interval
    } finally {
      this.#beating = false;
    }
    if (this.#active && this.#timer == null) this.#schedule();
  }

  #cancel(): void {
    if (this.#timer != null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
