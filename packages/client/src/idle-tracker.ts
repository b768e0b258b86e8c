import type { Clock } from './types.ts';

export interface IdleHandlers {
  onWarning(idleExpiresAt: number, msLeft: number): void;
  /** The deadline moved later after a warning. */
  onReset(idleExpiresAt: number | null): void;
  /** The idle deadline or the token's expiry has passed locally: ask the server. */
  onDue(): void;
}

/** Longest delay a browser timer takes (about 24.8 days); longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Two server checks of the same deadline stay this far apart (a client clock ahead of the server's would otherwise loop). */
const MIN_RECHECK_MS = 1000;

/**
 * The token's idle deadline as the server tells it (`Lockstep-Idle-Expires` on every answer, shared by the tabs):
 * warns `warningMs` before it and asks the server when it (or the token's expiry) passes. It never moves the
 * deadline on its own: only the server knows which calls count (excluded paths, `preserveIdleTTL`, exemptions).
 */
export class IdleTracker {
  #timeoutMs: number | null = null;
  #deadline: number | null = null;
  #expiresAt: number | null = null;
  #warned = false;
  #warnTimer: unknown = null;
  #dueTimer: unknown = null;
  #lastDueAt = -Infinity;

  constructor(private readonly clock: Clock, private readonly warningMs: number, private readonly handlers: IdleHandlers) {}

  get deadline(): number | null {
    return this.#deadline;
  }

  /** The idle timeout of the token (from its info), for the sign-out message; null when unknown or none. */
  get timeoutMs(): number | null {
    return this.#timeoutMs;
  }

  /** When the server last counted activity, as implied by the deadline it told (null when it cannot be told). */
  get lastCountedAt(): number | null {
    return this.#deadline != null && this.#timeoutMs != null ? this.#deadline - this.#timeoutMs : null;
  }

  /** The token's info: its idle timeout and absolute expiry, and the deadline at that moment. */
  configure(info: { idleTimeoutMs: number | null; idleExpiresAt: number | null; expiresAt: number | null }): void {
    this.#timeoutMs = info.idleTimeoutMs;
    this.#expiresAt = info.expiresAt ?? this.#expiresAt;
    this.observe(info.idleExpiresAt, true);
  }

  /** The server's deadline (null: no idle timeout applies now). It wins, later or earlier. */
  observe(deadline: number | null, rearm = false): void {
    if (deadline === this.#deadline && !rearm) return;
    const later = deadline == null || this.#deadline == null || deadline > this.#deadline;
    const reset = this.#warned && later && deadline !== this.#deadline;
    this.#deadline = deadline;
    if (reset) {
      this.#warned = false;
      this.handlers.onReset(deadline);
    }
    this.#arm();
  }

  /** Ask the server again in `ms` (it could not be reached). */
  recheckIn(ms: number): void {
    this.#clear('due');
    this.#dueTimer = this.clock.setTimeout(() => this.#fireDue(), ms);
  }

  stop(): void {
    this.#clear('warn');
    this.#clear('due');
    this.#timeoutMs = this.#deadline = this.#expiresAt = null;
    this.#warned = false;
  }

  #arm(): void {
    this.#clear('warn');
    this.#clear('due');
    const now = this.clock.now();
    const deadline = this.#deadline;
    if (deadline != null && !this.#warned && deadline > now) {
      this.#warnTimer = this.clock.setTimeout(() => this.#fireWarning(deadline), Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.warningMs - now)));
    }
    const due = this.#due();
    if (due != null) {
      const delay = Math.max(0, due - now, this.#lastDueAt + MIN_RECHECK_MS - now);
      this.#dueTimer = this.clock.setTimeout(() => this.#fireDue(), Math.min(MAX_TIMER_MS, delay));
    }
  }

  #fireWarning(deadline: number): void {
    this.#warnTimer = null;
    const now = this.clock.now();
    if (deadline !== this.#deadline) return;
    if (now < deadline - this.warningMs) return this.#arm(); // a timer clamped to the browser maximum
    this.#warned = true;
    this.handlers.onWarning(deadline, Math.max(0, deadline - now));
  }

  #fireDue(): void {
    this.#dueTimer = null;
    const due = this.#due();
    if (due != null && this.clock.now() < due) return this.#arm(); // early: a timer clamped to the browser maximum
    this.#lastDueAt = this.clock.now();
    this.handlers.onDue();
  }

  #due(): number | null {
    const times = [this.#deadline, this.#expiresAt].filter((t): t is number => t != null);
    return times.length ? Math.min(...times) : null;
  }

  #clear(which: 'warn' | 'due'): void {
    const handle = which === 'warn' ? this.#warnTimer : this.#dueTimer;
    if (handle != null) this.clock.clearTimeout(handle);
    if (which === 'warn') this.#warnTimer = null;
    else this.#dueTimer = null;
  }
}
