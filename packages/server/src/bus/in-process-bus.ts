import type { Bus, BusErrorKind, LockstepEvent } from './events.ts';

/** The embedded default: one process, so publishing is calling every handler before returning. */
export class InProcessBus implements Bus {
  readonly #handlers = new Set<(event: LockstepEvent) => void>();

  async publish(event: LockstepEvent) {
    for (const handler of this.#handlers) handler(event);
  }

  subscribe(handler: (event: LockstepEvent) => void) {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  async close() {
    this.#handlers.clear();
  }

  /** Always: there is no connection to lose. */
  readonly connected = true;

  /** Nothing here fails on its own: a handler's throw reaches the publisher. */
  onError(_listener: (kind: BusErrorKind) => void) {
    return () => {};
  }
}
