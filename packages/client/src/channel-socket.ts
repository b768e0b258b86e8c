import type { Clock, WebSocketConstructor, WebSocketLike } from './types.ts';

/** Every channel message: `{topicName, eventBody}`. */
export interface ChannelMessage {
  topicName: string;
  eventBody: Record<string, unknown>;
}

export interface SocketHandlers {
  onOpen(): void;
  onMessage(message: ChannelMessage): void;
  /** Called once, whoever closed: the server's close code, or 1006 when the connection died silently. */
  onClose(code: number): void;
}

export const PING_INTERVAL_MS = 25_000;
/** Close code for a connection lost without a close frame. */
export const ABNORMAL_CLOSURE = 1006;

/**
 * One WebSocket connection to a channel: sends `{"message":"ping"}` every 25 s; a ping that nothing
 * answers (no pong, no server heartbeat) before the next one is due means the connection is dead.
 * Robust to throttled timers in background tabs: it compares with the last ping, not with a wall-clock age.
 * `close()` is silent: no `onClose`.
 */
export class ChannelSocket {
  #ws: WebSocketLike | null;
  #pingTimer: unknown = null;
  #unanswered = false;

  constructor(WebSocket: WebSocketConstructor, url: string, private readonly clock: Clock, private readonly handlers: SocketHandlers) {
    const ws = new WebSocket(url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#schedulePing();
      handlers.onOpen();
    };
    ws.onmessage = (event) => {
      this.#unanswered = false;
      const message = parse(event.data);
      if (message) handlers.onMessage(message);
    };
    ws.onclose = (event) => this.#closed(event?.code ?? ABNORMAL_CLOSURE);
    ws.onerror = () => {}; // a close event always follows an error
  }

  close(): void {
    const ws = this.#detach();
    try {
      ws?.close(1000, 'client closing');
    } catch {
      // already closed
    }
  }

  #schedulePing(): void {
    this.#pingTimer = this.clock.setTimeout(() => this.#ping(), PING_INTERVAL_MS);
  }

  #ping(): void {
    this.#pingTimer = null;
    const ws = this.#ws;
    if (!ws) return;
    if (this.#unanswered) {
      this.close();
      this.handlers.onClose(ABNORMAL_CLOSURE);
      return;
    }
    this.#unanswered = true;
    try {
      ws.send(JSON.stringify({ message: 'ping' }));
    } catch {
      // the close event will tell
    }
    this.#schedulePing();
  }

  #closed(code: number): void {
    if (!this.#detach()) return;
    this.handlers.onClose(code);
  }

  #detach(): WebSocketLike | null {
    const ws = this.#ws;
    this.#ws = null;
    if (this.#pingTimer != null) this.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = null;
    if (ws) ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    return ws;
  }
}

function parse(data: unknown): ChannelMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const m = JSON.parse(data) as Partial<ChannelMessage> | null;
    if (typeof m?.topicName !== 'string') return null;
    const body = m.eventBody;
    return { topicName: m.topicName, eventBody: body && typeof body === 'object' ? (body as Record<string, unknown>) : {} };
  } catch {
    return null;
  }
}
