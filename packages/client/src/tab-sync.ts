import { isTokenRecord, type TokenRecord } from './session-storage.ts';
import type { BroadcastLike, Clock, SignOutReason } from './types.ts';

/** What the tabs of one client tell each other on the BroadcastChannel `lockstep:{clientId}`. */
export type TabMessage =
  | { type: 'token-request'; from: string }
  | { type: 'token-offer'; to: string; token: TokenRecord }
  | { type: 'signed-in'; token: TokenRecord }
  | { type: 'signed-out'; sid: string; reason: SignOutReason; initiatingClientId: string | null; selfInitiated: boolean }
  | { type: 'idle-deadline'; sid: string; idleExpiresAt: number | null };

/**
 * Tabs of the same client share one token and one state: a new tab asks the others for the token,
 * a sign-out in one tab ends the others, and the idle deadline one tab hears from the server holds for all.
 */
export class TabSync {
  readonly #channel: BroadcastLike;
  readonly #waiters = new Set<(token: TokenRecord) => void>();

  constructor(
    make: (name: string) => BroadcastLike,
    name: string,
    private readonly tabId: string,
    private readonly clock: Clock,
    onMessage: (message: TabMessage) => void,
  ) {
    this.#channel = make(name);
    this.#channel.onmessage = (event) => {
      const message = event.data as TabMessage | null;
      if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
      if (message.type === 'token-offer') {
        if (message.to === this.tabId && isTokenRecord(message.token)) for (const w of [...this.#waiters]) w(message.token);
        return;
      }
      onMessage(message);
    };
  }

  post(message: TabMessage): void {
    try {
      this.#channel.postMessage(message);
    } catch {
      // channel closed
    }
  }

  /** Asks the other tabs for their token; answers null when none offers one within `waitMs`. */
  requestToken(waitMs: number): Promise<TokenRecord | null> {
    return new Promise((resolve) => {
      const done = (token: TokenRecord | null) => {
        this.clock.clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(token);
      };
      const timer = this.clock.setTimeout(() => done(null), waitMs);
      this.#waiters.add(done);
      this.post({ type: 'token-request', from: this.tabId });
    });
  }

  close(): void {
    this.#channel.onmessage = null;
    this.#channel.close();
  }
}
