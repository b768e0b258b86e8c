import type { Logger } from 'pino';
import type { Bus, LockstepEvent } from '../bus/events.ts';
import type { ClusterChange, ClusterLogEntry, NodeLease } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import type { Metrics } from './metrics.ts';

/** A node renews its lease this often, each time after applying the cluster log; the lease lasts LEASE_MS from the renewal's start. */
export const RENEW_MS = 1000;
export const LEASE_MS = 3000;
/** How far apart two nodes' clocks may be: a revoker waits this much past another node's lease. */
const CLOCK_SKEW_MS = 250;
/** A revoker re-reads the lease rows this often while it waits (acknowledgements over the bus wake it sooner). */
const POLL_MS = 100;
const LOG_BATCH = 1000;
/** A node told of an entry it cannot read yet (an append below it still open) reads again this often. */
const CHASE_MS = 10;

/**
 * How this node stands with the others. A change is "propagated" once every node that could still
 * serve from memory has applied it: no node accepts a token after the call that revoked it returned.
 */
export interface Membership {
  readonly nodeId: string;
  /** May this node serve authenticated calls now? False once its lease lapsed without renewal (it may have missed a revocation). */
  held(): boolean;
  /** Returns once every other live node has applied the cluster log up to `seq`, or its lease has lapsed. */
  propagate(seq: number): Promise<void>;
  /** Appends a change to the cluster log and propagates it; the caller has applied it to its own memory already. */
  announce(change: ClusterChange, at: number): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface MembershipDeps {
  store: Store;
  log: Logger;
  /** Applies log entries written by any node (this one's included: applying must be idempotent). */
  apply: (entries: ClusterLogEntry[]) => Promise<void>;
  metrics: Pick<Metrics, 'revocationAck'>;
}

/**
 * A node of a cluster sharing one store and one bus. Its lease row says until when it may serve and how
 * far it has applied the cluster log; it renews only after applying everything committed before the
 * renewal started, so a node holding a lease has seen every revocation older than its renewal. Leases
 * and waits use wall time, never the injected clock: they are about real processes, not token policy.
 */
export class ClusterMembership implements Membership {
  #applied = 0;
  #leaseUntil = 0;
  #catchingUp: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #acks = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  #unsubscribe: () => void = () => {};

  constructor(
    readonly nodeId: string,
    private readonly bus: Bus,
    private readonly deps: MembershipDeps,
    private readonly now: () => number = Date.now,
  ) {}

  held(): boolean {
    return this.now() < this.#leaseUntil;
  }

  /** Joins: the log is taken as applied up to its end (this node's memory is empty), the first lease written before serving. */
  async start(): Promise<void> {
    this.#applied = await this.deps.store.lastLogSeq();
    this.#unsubscribe = this.bus.subscribe((e) => this.#onEvent(e));
    await this.renew();
    this.#timer ??= setInterval(() => void this.renew().catch((err) => this.deps.log.error({ err }, 'lease renewal failed')), RENEW_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe();
    await this.#catchingUp?.catch(() => {});
    this.#leaseUntil = 0;
    await this.deps.store.releaseNodeLease(this.nodeId).catch(() => {});
  }

  /** Applies everything committed before this call, then renews the lease from the call's start. */
  async renew(): Promise<void> {
    const start = this.now();
    await this.catchUp();
    const lease: NodeLease = { nodeId: this.nodeId, leaseUntil: start + LEASE_MS, appliedSeq: this.#applied };
    await this.deps.store.renewNodeLease(lease);
    this.#leaseUntil = lease.leaseUntil;
  }

  /**
   * Applies the log past what this node has applied. Concurrent callers share a run, and one more pass follows
   * if asked meanwhile, so a caller's promise resolves only after a pass that started after its call.
   */
  catchUp(): Promise<void> {
    if (this.#catchingUp) {
      this.#again = true;
      return this.#catchingUp;
    }
    const run = async () => {
      do {
        this.#again = false;
        await this.#applyNew();
      } while (this.#again);
    };
    return (this.#catchingUp = run().finally(() => (this.#catchingUp = null)));
  }

  async #applyNew(): Promise<void> {
    const { store, apply } = this.deps;
    for (;;) {
      const entries = await store.logAfter(this.#applied, LOG_BATCH);
      if (entries.length) {
        await apply(entries);
        this.#applied = entries.at(-1)!.seq;
      }
      if (entries.length < LOG_BATCH) return;
    }
  }

  async announce(change: ClusterChange, at: number): Promise<void> {
    await this.#propagate(await this.deps.store.appendChange(change, at));
  }

  /** What the ledger calls after a revocation: timed, as the revocation acknowledgement. */
  async propagate(seq: number): Promise<void> {
    if (seq <= 0) return;
    const start = performance.now();
    await this.#propagate(seq);
    this.deps.metrics.revocationAck.observe((performance.now() - start) / 1000);
  }

  async #propagate(seq: number): Promise<void> {
    if (seq <= 0) return;
    await this.bus.publish({ type: 'cluster.log', nodeId: this.nodeId, seq }).catch(() => {
      // The bus is down: the others apply the log at their next renewal, which the wait below sees in their rows.
    });
    for (;;) {
      const now = this.now();
      const waitingFor = (await this.deps.store.listNodeLeases()).filter((n) =>
        n.nodeId !== this.nodeId && Math.max(n.appliedSeq, this.#acks.get(n.nodeId) ?? 0) < seq && now < n.leaseUntil + CLOCK_SKEW_MS);
      if (!waitingFor.length) return this.#pruneAcks();
      const lapse = Math.min(...waitingFor.map((n) => n.leaseUntil + CLOCK_SKEW_MS - now));
      const acknowledged = () => waitingFor.every((n) => (this.#acks.get(n.nodeId) ?? 0) >= seq);
      await this.#ackOrTimeout(Math.max(1, Math.min(POLL_MS, lapse)), acknowledged);
      // Every node with a lease after the commit has applied it; a node joining later starts past it.
      if (acknowledged()) return this.#pruneAcks();
    }
  }

  /** Acknowledgements only hurry a wait (the lease rows are the truth): forgetting them is safe, and bounds them as nodes come and go. */
  #pruneAcks(): void {
    if (this.#acks.size > 64) this.#acks.clear();
  }

  #ackOrTimeout(ms: number, done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => done() && finish();
      const timer = setTimeout(finish, ms);
      this.#waiters.add(check);
    });
  }

  /**
   * Applies the log until `seq` (committed, announced by its writer) is applied, acknowledging each pass: an append
   * still open below it holds the reading back, and its own announcement may have come and gone meanwhile.
   */
  async #chase(seq: number, until: number): Promise<void> {
    for (;;) {
      if (seq > this.#applied) await this.catchUp();
      await this.bus.publish({ type: 'cluster.applied', nodeId: this.nodeId, seq: this.#applied });
      if (seq <= this.#applied || !this.#timer || this.now() >= until) return;
      await new Promise((r) => setTimeout(r, CHASE_MS));
    }
  }

  #onEvent(e: LockstepEvent): void {
    if (e.type === 'cluster.log' && e.nodeId !== this.nodeId) { // this node's own appends are in its memory already
      void this.#chase(e.seq, this.now() + LEASE_MS)
        .catch((err) => this.deps.log.warn({ err }, 'applying the cluster log failed; retrying at the next renewal'));
    } else if (e.type === 'cluster.applied' && e.nodeId !== this.nodeId) {
      if (e.seq > (this.#acks.get(e.nodeId) ?? 0)) this.#acks.set(e.nodeId, e.seq);
      for (const check of [...this.#waiters]) check();
    }
  }
}

/**
 * The embedded default: the only server on its store, so its own changes are in effect once they are in its
 * memory and it waits for nobody. One-shot commands on the same store (`lockstep user logoff`) end tokens from
 * another process: it applies the cluster log as a node does, every RENEW_MS, and its lease row says how far,
 * which those commands wait for. Unlike a node of a cluster it keeps serving when a renewal is late.
 */
export class SoloMembership extends ClusterMembership {
  override held(): boolean {
    return true;
  }
  override async propagate(): Promise<void> {}
  override async announce(): Promise<void> {}
}
