/** A typed event emitter: `on` returns its own unsubscribe; a throwing handler never breaks the SDK or other handlers. */
export class Emitter<Events extends object> {
  readonly #handlers = new Map<keyof Events, Set<(payload: never) => void>>();

  on<E extends keyof Events>(event: E, handler: (payload: Events[E]) => void): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        (handler as (payload: Events[E]) => void)(payload);
      } catch (err) {
        report(err);
      }
    }
  }
}

function report(err: unknown): void {
  const g = globalThis as { reportError?: (err: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(err);
  else console.error('lockstep: an event handler threw', err);
}
