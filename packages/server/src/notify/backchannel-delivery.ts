import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { fullJitterDelay } from '../core/backoff.ts';
import type { BackchannelLogout } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { SigningKeys } from '../authority/signing-keys.ts';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const GIVE_UP_AFTER_MS = 24 * 3600_000;
const RETRY_BASE_MS = 1000;
const MIN_RETRY_MS = 250;
const RETRY_CAP_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 5000;
const POLL_MS = 500;

/**
 * OpenID Connect Back-Channel Logout 1.0 from the durable outbox: signs a logout token
 * (`typ: logout+jwt`) per pending row and POSTs it; network errors and 5xx are retried with
 * full-jitter backoff until a 2xx or 24 h, 4xx gives up. Every attempt is recorded. The
 * outbox row's id is the token's `jti`, so a receiver can act on each logout exactly once.
 */
export class BackchannelDelivery {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly deps: { store: Store; clock: Clock; keys: SigningKeys; issuer: () => string; log: Logger },
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => this.poke(), POLL_MS).unref();
    this.poke();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Something was added to the outbox: deliver now rather than at the next poll. */
  poke(): void {
    if (!this.#timer) return;
    if (this.#running) this.#again = true;
    else void this.#run();
  }

  /** Delivers everything due now; returns when done. Shares the poller's run, so no row is sent twice at once. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
    await this.#run();
  }

  #run(): Promise<void> {
    return (this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.poke();
      }
    }));
  }

  async #drain(): Promise<void> {
    for (;;) {
      const due = await this.deps.store.dueBackchannelLogouts(this.deps.clock.now(), 50);
      if (!due.length) return;
      await Promise.all(due.map((row) => this.#attempt(row).catch((err) => this.deps.log.error({ err, jti: row.id }, 'back-channel attempt failed to record'))));
    }
  }

  async #attempt(row: BackchannelLogout): Promise<void> {
    const { store, clock, log } = this.deps;
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(row.uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: await this.#logoutToken(row) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'manual',
      });
      statusCode = response.status;
      await response.body?.cancel();
    } catch (err) {
      error = (err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message;
    }
    const now = clock.now();
    const delivered = statusCode != null && statusCode >= 200 && statusCode < 300;
    const retryable = !delivered && (statusCode == null || statusCode >= 500) && now - row.createdAt < GIVE_UP_AFTER_MS;
    const outcome = delivered ? 'delivered' : retryable ? 'retry' : 'failed';
    const nextAttemptAt = retryable ? now + MIN_RETRY_MS + fullJitterDelay(row.attempts, RETRY_BASE_MS, RETRY_CAP_MS) : null;
    await store.recordBackchannelAttempt(row.id, now, { outcome, statusCode, error, nextAttemptAt });
    log.info({ jti: row.id, clientId: row.clientId, outcome, statusCode, error }, 'back-channel logout attempt');
  }

  #logoutToken(row: BackchannelLogout): Promise<string> {
    const iat = Math.floor(this.deps.clock.now() / 1000);
    return this.deps.keys.sign({
      iss: this.deps.issuer(), aud: row.clientId, iat, exp: iat + 120, jti: row.id, sub: row.userId,
      ...(row.sessionId ? { sid: row.sessionId } : {}),
      events: { [BACKCHANNEL_EVENT]: {} },
    }, 'logout+jwt');
  }
}
