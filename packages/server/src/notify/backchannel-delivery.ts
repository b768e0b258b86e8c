import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { fullJitterDelay } from '../core/backoff.ts';
import { allowRanges, checkBackchannelUri, type Cidr, type Lookup, type Refusal, type ResolvedAddress, type Vetted } from '../core/backchannel-address.ts';
import type { BackchannelAttempt, BackchannelLogout, BackchannelResult } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import type { SigningKeys } from '../authority/signing-keys.ts';
import type { Metrics } from '../authority/metrics.ts';
import { withTimeout } from '../core/timeout.ts';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const GIVE_UP_AFTER_MS = 24 * 3600_000;
const RETRY_BASE_MS = 1000;
const MIN_RETRY_MS = 250;
const RETRY_CAP_MS = 5 * 60_000;
const POLL_MS = 500;
const BATCH = 50;
/** A claim lasts one attempt and this much more; a node that dies mid-attempt delays that row by as long. */
const CLAIM_MARGIN_MS = 5000;

export interface DeliveryLimits {
  /** One attempt, DNS lookup included, ends after this long (result timeout, retried). */
  attemptTimeoutMs: number;
  /** Attempts in flight to one receiver origin (scheme://host:port) at a time. */
  perReceiver: number;
  /** Attempts in flight in all. */
  total: number;
}

export const DEFAULT_LIMITS: DeliveryLimits = { attemptTimeoutMs: 5000, perReceiver: 2, total: 128 };

/** A request answered: the status; or why it was not. */
type Exchange = { status: number } | { failure: 'timeout' | 'network_error' | 'stopped'; code?: string };

interface InFlight {
  origin: string;
  done: Promise<void>;
  abort: AbortController;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 from the durable outbox: signs a logout token
 * (`typ: logout+jwt`) per pending row and POSTs it; network errors, timeouts and 5xx are retried
 * with full-jitter backoff until a 2xx or 24 h, other answers give up. Every attempt is recorded
 * with a result class only (see BackchannelResult). The outbox row's id is the token's `jti`, so a
 * receiver can act on each logout exactly once.
 *
 * Each receiver origin has at most `perReceiver` attempts in flight, each bounded by
 * `attemptTimeoutMs`, and rows of a busy receiver are skipped when picking what to send next: an
 * unresponsive receiver of one org delays only its own logouts.
 *
 * Before each attempt the URI passes the address policy again, after DNS resolution, and the
 * connection goes to the address that was checked (not to a second lookup), so a name that
 * rebinds to a private address meanwhile is not followed. A refusal is a permanent failure.
 */
export class BackchannelDelivery {
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #pumping: Promise<void> | null = null;
  #again = false;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #perOrigin = new Map<string, number>();
  /** Rows claimed by this node whose receiver had no room yet. */
  readonly #waiting = new Map<string, { row: BackchannelLogout; until: number }>();
  readonly #allow: Cidr[];
  readonly limits: DeliveryLimits;
  /** How hostnames are resolved, at delivery and when a client's URI is checked. Tests may replace it. */
  lookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

  constructor(
    private readonly deps: {
      store: Store; clock: Clock; keys: SigningKeys; issuer: () => string; log: Logger;
      /** LOCKSTEP_BACKCHANNEL_ALLOW, parsed by the config. */
      allow: readonly string[];
      limits?: Partial<DeliveryLimits>;
      metrics: Pick<Metrics, 'backchannelAttempt'>;
    },
  ) {
    this.#allow = allowRanges(deps.allow);
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
  }

  /**
   * The address policy for a URI an admin sets on a client: the refusal, or null when allowed. A
   * name that does not resolve (yet) is accepted for https — delivery checks it again.
   */
  async checkUri(uri: string): Promise<Refusal | null> {
    const lookup: Lookup = (host) => withTimeout(this.lookup(host), this.limits.attemptTimeoutMs).then((r) => r ?? []);
    const verdict = await checkBackchannelUri(uri, { allow: this.#allow, lookup, unresolvable: 'accept' });
    return verdict.ok ? null : verdict;
  }

  start(): void {
    this.#stopped = false;
    this.#timer ??= setInterval(() => this.poke(), POLL_MS).unref();
    this.poke();
  }

  /**
   * Stops polling. Attempts in flight get `graceMs` to finish and be recorded; the rest are abandoned
   * unrecorded (their rows stay due and go out once their claim ends, from this node after a restart or from another).
   */
  async stop(graceMs = 0): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#pumping;
    const settled = () => Promise.all([...this.#inFlight.values()].map((f) => f.done));
    if (graceMs > 0 && this.#inFlight.size) await withTimeout(settled(), graceMs);
    for (const f of this.#inFlight.values()) f.abort.abort();
    await settled();
  }

  /** Something was added to the outbox (or a receiver has room again): start what is due. */
  poke(): void {
    if (!this.#timer || this.#stopped) return;
    if (this.#pumping) this.#again = true;
    else void this.#pump();
  }

  /**
   * Delivers everything due now and waits until those attempts are recorded (the tests' way to
   * step the outbox on an injected clock). Shares the poller's bookkeeping, so no row is sent twice at once.
   */
  async drain(): Promise<void> {
    for (;;) {
      while (this.#pumping) await this.#pumping;
      await this.#pump();
      if (!this.#inFlight.size) return;
      await Promise.all([...this.#inFlight.values()].map((f) => f.done));
    }
  }

  #pump(): Promise<void> {
    return (this.#pumping = this.#fill()
      .catch((err) => this.deps.log.error({ err }, 'back-channel outbox read failed'))
      .finally(() => {
        this.#pumping = null;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      }));
  }

  /**
   * Starts due rows while there is room. Rows are claimed in the store first, so no other node sends them
   * meanwhile; a claimed row whose receiver is full here waits for room while its claim lasts.
   */
  async #fill(): Promise<void> {
    const { store, clock } = this.deps;
    const busyUris = new Set<string>();
    for (const [id, { row, until }] of this.#waiting) {
      if (clock.now() >= until - this.limits.attemptTimeoutMs) this.#waiting.delete(id);
      else if (this.#hasRoom(row.uri)) {
        this.#waiting.delete(id);
        this.#begin(row);
      } else busyUris.add(row.uri);
    }
    while (!this.#stopped && this.#inFlight.size < this.limits.total && this.#waiting.size < this.limits.total) {
      const now = clock.now();
      const until = now + this.limits.attemptTimeoutMs + CLAIM_MARGIN_MS;
      const claimed = await store.claimBackchannelLogouts(now, BATCH, until, { uris: [...busyUris] });
      if (!claimed.length) return;
      for (const row of claimed) {
        if (this.#hasRoom(row.uri)) this.#begin(row);
        else {
          this.#waiting.set(row.id, { row, until });
          busyUris.add(row.uri);
        }
      }
    }
  }

  #hasRoom(uri: string): boolean {
    return this.#inFlight.size < this.limits.total && (this.#perOrigin.get(receiverOf(uri)) ?? 0) < this.limits.perReceiver;
  }

  #begin(row: BackchannelLogout): void {
    const origin = receiverOf(row.uri);
    const abort = new AbortController();
    this.#perOrigin.set(origin, (this.#perOrigin.get(origin) ?? 0) + 1);
    const done = this.#attempt(row, abort.signal)
      .catch((err) => this.deps.log.error({ err, jti: row.id }, 'back-channel attempt failed to record'))
      .finally(() => {
        this.#inFlight.delete(row.id);
        const left = (this.#perOrigin.get(origin) ?? 1) - 1;
        if (left) this.#perOrigin.set(origin, left);
        else this.#perOrigin.delete(origin);
        this.poke();
      });
    this.#inFlight.set(row.id, { origin, done, abort });
  }

  async #attempt(row: BackchannelLogout, stop: AbortSignal): Promise<void> {
    const { store, clock, log } = this.deps;
    const deadline = AbortSignal.any([stop, AbortSignal.timeout(this.limits.attemptTimeoutMs)]);
    // Undefined: the deadline passed while resolving.
    const vetted = await abortable(checkBackchannelUri(row.uri, { allow: this.#allow, lookup: this.lookup }), deadline).catch(() => undefined);
    if (stop.aborted) return;

    let result: BackchannelResult;
    let statusCode: number | null = null;
    let detail: string | undefined;
    if (!vetted) {
      result = 'timeout';
    } else if (!vetted.ok) {
      // A name that does not resolve is a network problem (retried); anything else the policy refuses is final.
      result = vetted.rule === 'unresolvable' ? 'network_error' : 'refused_by_policy';
      detail = vetted.rule;
    } else {
      const exchange = await post(vetted, await this.#logoutToken(row), deadline);
      if ('failure' in exchange && exchange.failure === 'stopped') return;
      if ('status' in exchange) {
        statusCode = exchange.status;
        result = statusCode >= 200 && statusCode < 300 ? 'delivered' : 'http_status';
      } else {
        result = exchange.failure === 'timeout' ? 'timeout' : 'network_error';
        detail = exchange.code;
      }
    }
    if (stop.aborted) return;

    const now = clock.now();
    const delivered = result === 'delivered';
    const retryable = !delivered && result !== 'refused_by_policy' && (statusCode == null || statusCode >= 500) && now - row.createdAt < GIVE_UP_AFTER_MS;
    const attempt: BackchannelAttempt = {
      outcome: delivered ? 'delivered' : retryable ? 'retry' : 'failed',
      result,
      statusCode,
      error: result === 'delivered' || result === 'http_status' ? null : result,
      nextAttemptAt: retryable ? now + MIN_RETRY_MS + fullJitterDelay(row.attempts, RETRY_BASE_MS, RETRY_CAP_MS) : null,
    };
    this.deps.metrics.backchannelAttempt(attempt);
    await store.recordBackchannelAttempt(row.id, now, attempt);
    // The operator's log may say more than the org's audit log (the error code, the policy rule).
    log.info({ jti: row.id, orgId: row.orgId, clientId: row.clientId, outcome: attempt.outcome, result, statusCode, detail }, 'back-channel logout attempt');
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

/** Concurrency is per receiver origin; a URI that does not parse is its own receiver. */
function receiverOf(uri: string): string {
  return URL.canParse(uri) ? new URL(uri).origin : uri;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * POSTs the logout token to the vetted URI, connecting to the first checked address — never to
 * a fresh lookup of the name. No redirects are followed; only the status line is read.
 */
function post(target: Vetted, logoutToken: string, signal: AbortSignal): Promise<Exchange> {
  const { url, host, addresses } = target;
  const [first] = addresses as [ResolvedAddress];
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (err: null, all: ResolvedAddress[]) => void)(null, [first]);
    else callback(null, first.address, first.family);
  };
  const body = new URLSearchParams({ logout_token: logoutToken }).toString();
  const options: RequestOptions = {
    method: 'POST', hostname: host, port: url.port || undefined, path: url.pathname + url.search,
    headers: {
      host: url.host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store',
    },
    agent: false, lookup: pinned,
  };
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    let req: ClientRequest;
    const settle = (e: Exchange) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(e);
    };
    const onAbort = () => settle({ failure: (signal.reason as Error | undefined)?.name === 'TimeoutError' ? 'timeout' : 'stopped' });
    req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
      settle({ status: res.statusCode ?? 0 });
      res.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => settle({ failure: 'network_error', code: err.code }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}
