import type { MessageEventLike, SignOutReason, WindowLike } from './types.ts';

/** Messages between an embedded client (in an iframe) and the page that hosts it. */
export const HOST_ACTIVITY = 'lockstep:activity';
export const HOST_SIGNED_OUT = 'lockstep:signed-out';

/**
 * The iframe side: activity reported by the host page counts (only from the allowed origins), and
 * the host is told when the session ends, so it can close or replace the frame.
 */
export class HostFrame {
  #stop: (() => void) | null = null;

  constructor(private readonly win: WindowLike, private readonly allowedOrigins: readonly string[], private readonly onActivity: () => void) {}

  listen(): void {
    if (this.#stop || !this.allowedOrigins.length) return;
    const listener = (event: MessageEventLike) => {
      if (!this.allowedOrigins.includes(event.origin)) return;
      const data = event.data as { type?: unknown } | null;
      if (data && typeof data === 'object' && data.type === HOST_ACTIVITY) this.onActivity();
    };
    this.win.addEventListener('message', listener);
    this.#stop = () => this.win.removeEventListener('message', listener);
  }

  notifySignedOut(reason: SignOutReason, message: string): void {
    const parent = this.win.parent;
    if (!parent || parent === (this.win as unknown)) return; // not embedded
    for (const origin of this.allowedOrigins) {
      try {
        parent.postMessage({ type: HOST_SIGNED_OUT, reason, message }, origin);
      } catch {
        // the parent navigated away
      }
    }
  }

  close(): void {
    this.#stop?.();
    this.#stop = null;
  }
}
