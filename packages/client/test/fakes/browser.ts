import type { BroadcastLike, DocumentLike, FrameElementLike, LocationLike, PopupLike, WindowLike } from '../../src/types.ts';

/** sessionStorage in memory: the SDK's own fallback storage. */
export { MemoryStorage } from '../../src/memory-storage.ts';

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
  /** Set when the page is framed: the origins of the frames around it. */
  ancestorOrigins?: string[];
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

/** A window opened by `window.open`: records where it was sent; the test (as the user) can close it. */
export class FakePopup implements PopupLike {
  closed = false;
  readonly navigations: string[] = [];
  readonly location = { replace: (url: string) => void this.navigations.push(url) };
  close(): void {
    this.closed = true;
  }
}

/** A window with event listeners, a parent frame that records what it was sent, and popups that open unless blocked. */
export class FakeWindow implements WindowLike {
  readonly #listeners = new Map<string, Set<(event: any) => void>>();
  readonly parent = { posted: [] as { message: unknown; targetOrigin: string }[], postMessage(message: unknown, targetOrigin: string) { this.posted.push({ message, targetOrigin }); } };
  /** This window itself, or (framed) the top frame of another origin. */
  top: unknown = this;
  /** The popup blocker: `open` answers null (no user gesture). */
  blockPopups = false;
  readonly popups: { popup: FakePopup; url: string; target: string; features: string }[] = [];

  open(url: string, target: string, features: string): FakePopup | null {
    if (this.blockPopups) return null;
    const popup = new FakePopup();
    this.popups.push({ popup, url, target, features });
    return popup;
  }

  get lastPopup(): FakePopup {
    const last = this.popups.at(-1);
    if (!last) throw new Error('no popup was opened');
    return last.popup;
  }

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

/** An iframe element: `contentWindow` is a stand-in for the frame's window (the `source` of its messages). */
export class FakeFrame implements FrameElementLike {
  src = '';
  readonly contentWindow = { frame: true };
  readonly attributes = new Map<string, string>();
  removed = false;
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  remove(): void {
    this.removed = true;
  }
}

/** A document that creates iframes and records those appended to its body. */
export class FakeDocument implements DocumentLike {
  readonly frames: FakeFrame[] = [];
  readonly body = { appendChild: (node: FakeFrame) => void this.frames.push(node) };
  createElement(_tag: 'iframe'): FakeFrame {
    return new FakeFrame();
  }
  get lastFrame(): FakeFrame {
    const last = this.frames.at(-1);
    if (!last) throw new Error('no iframe was added');
    return last;
  }
}
