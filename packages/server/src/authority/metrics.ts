import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusErrorKind } from '../bus/events.ts';
import { REVOKE_REASONS, type BackchannelAttempt } from '../core/records.ts';
import type { OutboxStats } from '../store/store.ts';
import { RequestDurations } from './request-durations.ts';

const BUS_ERRORS: Record<BusErrorKind, true> = { publish_failed: true, disconnected: true, subscribe_failed: true, malformed_message: true, handler_threw: true };

/** Requests that matched no route share one label: the raw URL is unbounded. */
const UNMATCHED_ROUTE = '(unmatched)';

/** What the scrape-time gauges read, once the authority's parts exist. */
export interface MetricSources {
  trackedTokens(): number;
  openChannels(): number;
  outboxStats(): Promise<OutboxStats>;
  now(): number;
  /** Null outside a cluster (no lease to hold). */
  leaseHeld: (() => boolean) | null;
}

/**
 * Every Prometheus metric of one Authority, in a registry of its own (tests run several servers in one process).
 * Label values come from fixed sets only: route patterns, status codes, reasons, outcomes; never a raw URL or an id.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #in = { registers: [this.registry] };

  readonly #requestDurations = new RequestDurations(
    'lockstep_http_request_duration_seconds', 'HTTP requests by route pattern, method and status: time from arrival to the answer sent',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  /** The store reads of a scrape (set by watch). */
  #beforeScrape: () => Promise<void> = async () => {};

  readonly logouts = new Counter({
    ...this.#in, name: 'lockstep_logouts_total',
    help: 'Endings of credentials by reason: one per logout, logoff or revocation that ended something, one per idle-expired token',
    labelNames: ['reason'],
  });
  readonly idleExpiries = new Counter({ ...this.#in, name: 'lockstep_idle_expiries_total', help: 'Access tokens this node expired at their idle deadline' });
  readonly expiryLateness = new Histogram({
    ...this.#in, name: 'lockstep_idle_expiry_lateness_seconds', help: 'How long after its idle deadline the expirer ended a token',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  });
  readonly backchannelAttempts = new Counter({
    ...this.#in, name: 'lockstep_backchannel_attempts_total',
    help: 'Back-channel logout delivery attempts by outcome (delivered, retry, failed) and result class (delivered, http_status, timeout, network_error, refused_by_policy)',
    labelNames: ['outcome', 'result'],
  });
  readonly loginFailures = new Counter({ ...this.#in, name: 'lockstep_login_failures_total', help: 'Sign-ins refused for a wrong password or an unknown account (throttled ones not included)' });
  readonly loginsThrottled = new Counter({ ...this.#in, name: 'lockstep_logins_throttled_total', help: 'Sign-in attempts refused by the login throttle before the password was checked' });
  readonly storeErrors = new Counter({
    ...this.#in, name: 'lockstep_store_errors_total', help: 'Store calls that failed, by Store method (unique-value conflicts are answers, not failures)',
    labelNames: ['operation'],
  });
  readonly busErrors = new Counter({
    ...this.#in, name: 'lockstep_bus_errors_total', help: 'Bus failures by kind: publish_failed, disconnected, subscribe_failed, malformed_message, handler_threw',
    labelNames: ['kind'],
  });
  readonly revocationAck: Histogram;

  /** `cluster`: this node shares its store with others (the cluster metrics are registered). */
  constructor({ cluster }: { cluster: boolean }) {
    this.registry.registerMetric(this.#requestDurations as never);
    processRegistry(); // from now on: event-loop lag and GC are observed from the start, not from the first scrape
    for (const reason of REVOKE_REASONS) this.logouts.inc({ reason }, 0);
    for (const kind of Object.keys(BUS_ERRORS)) this.busErrors.inc({ kind }, 0);
    this.revocationAck = new Histogram({
      registers: cluster ? [this.registry] : [], name: 'lockstep_cluster_revocation_ack_seconds',
      help: 'In a cluster: from a revocation committed to every other live node having applied it (or its lease having lapsed)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
  }

  /** The duration recorder of one route pattern (requests that matched no route: `(unmatched)`). */
  requestRecorder(route = UNMATCHED_ROUTE): (method: string, status: number, seconds: number) => void {
    return this.#requestDurations.recorder(route);
  }

  backchannelAttempt(attempt: Pick<BackchannelAttempt, 'outcome' | 'result'>): void {
    this.backchannelAttempts.inc({ outcome: attempt.outcome, result: attempt.result });
  }

  /** Registers the gauges computed at each scrape. */
  watch(sources: MetricSources): void {
    const gauge = (name: string, help: string, read?: (g: Gauge) => void) =>
      new Gauge({ ...this.#in, name, help, ...(read ? { collect() { read(this); } } : {}) });
    gauge('lockstep_tokens_tracked', "Access tokens in this node's memory: live ones it has seen, and ones ended in the last minutes", (g) => g.set(sources.trackedTokens()));
    gauge('lockstep_channels_open', 'Notification channels this node holds: created here or connected to here, not yet expired nor ended with their token', (g) => g.set(sources.openChannels()));
    const pending = gauge('lockstep_backchannel_outbox_pending', 'Back-channel logouts waiting in the outbox (all nodes); absent when the store did not answer');
    const oldest = gauge('lockstep_backchannel_outbox_oldest_pending_age_seconds', 'Age of the oldest back-channel logout still pending (0: none); absent when the store did not answer');
    // Read before the registry renders, so a failure is in the same scrape's store error count.
    this.#beforeScrape = async () => {
      const stats = await sources.outboxStats().catch(() => null);
      if (!stats) return void (pending.remove(), oldest.remove());
      pending.set(stats.pending);
      oldest.set(stats.oldestCreatedAt == null ? 0 : Math.max(0, (sources.now() - stats.oldestCreatedAt) / 1000));
    };
    const leaseHeld = sources.leaseHeld;
    if (leaseHeld) gauge('lockstep_cluster_lease_held', 'In a cluster: 1 while this node holds its lease (may serve authenticated calls), 0 once it lapsed', (g) => g.set(leaseHeld() ? 1 : 0));
  }

  /** The text a scraper reads: this authority's metrics, then the process's. */
  async exposition(): Promise<string> {
    await this.#beforeScrape();
    return (await this.registry.metrics()) + (await processRegistry().metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

let processMetrics: Registry | null = null;

/**
 * Node's default process metrics (CPU, memory, event-loop lag, GC) under their usual names, once per process: they
 * describe the process, not one authority, and each collection installs observers that live as long as the process.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
