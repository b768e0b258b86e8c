import type { BroadcastLike, LocationLike, WindowLike } from '../../src/types.ts';

/** sessionStorage in memory. */
export class MemoryStorage implements Storage {
  readonly #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  clear(): void {
    this.#items.clear();
  }
  keys(): string[] {
    return [...this.#items.keys()];
  }
}

/** BroadcastChannels of one origin, in process: a message reaches every other channel of the same name, asynchronously. */
export class BroadcastBus {
  readonly #channels = new Set<FakeBroadcastChannel>();
  readonly log: { name: string; data: unknown }[] = [];

  readonly open = (name: string): BroadcastLike => {
    const channel = new FakeBroadcastChannel(name, (from, data) => this.#deliver(from, data), () => this.#channels.delete(channel));
    this.#channels.add(channel);
    return channel;
  };

  #deliver(from: FakeBroadcastChannel, data: unknown): void {
    this.log.push({ name: from.name, data });
    for (const channel of this.#channels) {
      if (channel === from || channel.name !== from.name) continue;
      const copy = structuredClone(data);
      queueMicrotask(() => channel.onmessage?.({ data: copy }));
    }
  }
}

class FakeBroadcastChannel implements BroadcastLike {
  onmessage: BroadcastLike['onmessage'] = null;
  constructor(readonly name: string, private readonly send: (from: FakeBroadcastChannel, data: unknown) => void, private readonly closed: () => void) {}
  postMessage(message: unknown): void {
    this.send(this, message);
  }
  close(): void {
    this.closed();
  }
}

export class FakeLocation implements LocationLike {
  readonly assigned: string[] = [];
  #url: URL;
  constructor(href: string) {
    this.#url = new URL(href);
  }
  get href() {
    return this.#url.href;
  }
  get pathname() {
    return this.#url.pathname;
  }
  get search() {
    return this.#url.search;
  }
  get hash() {
    return this.#url.hash;
  }
  assign(url: string): void {
    this.assigned.push(url);
  }
  /** Navigates without a page load (as a single-page app's router does). */
  go(href: string): void {
    this.#url = new URL(href, this.#url);
  }
}

/** A window with event listeners, and a parent frame that records what it was sent. */
export class FakeWindow implements WindowLike {
  readonly #listeners = new Map<string, Set<(event: any) => void>>();
  readonly parent = { posted: [] as { message: unknown; targetOrigin: string }[], postMessage(message: unknown, targetOrigin: string) { this.posted.push({ message, targetOrigin }); } };

  addEventListener(type: string, listener: (event: any) => void): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }
  removeEventListener(type: string, listener: (event: any) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }
  dispatch(type: string, event: unknown = {}): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
  }
  listenerCount(type: string): number {
    return this.#listeners.get(type)?.size ?? 0;
  }
}
