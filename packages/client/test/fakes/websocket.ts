import type { WebSocketConstructor, WebSocketLike } from '../../src/types.ts';

/** A WebSocket the test drives: `open()`, `receive()`, `serverClose()`; records what the client sent and how it closed. */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: unknown[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;
  /** Answer `{"message":"ping"}` with a pong, as the server does. */
  autoPong = true;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
    const message = JSON.parse(data) as { message?: string };
    this.sent.push(message);
    if (message.message === 'ping' && this.autoPong) {
      queueMicrotask(() => this.receive({ topicName: 'channel.metadata', eventBody: { message: 'pong' } }));
    }
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.closedByClient = { code, reason };
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** A transport failure: error, then close 1006. */
  fail(): void {
    this.onerror?.({});
    this.serverClose(1006);
  }

  get isClosed(): boolean {
    return this.readyState === 3;
  }
}

/** A WebSocket class of its own for each test, with the list of every socket it made. */
export function fakeWebSocketClass(): { WebSocket: WebSocketConstructor; sockets: FakeWebSocket[] } {
  const sockets: FakeWebSocket[] = [];
  class TestWebSocket extends FakeWebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: TestWebSocket, sockets };
}
