import { listenForAuthorization } from './authorization-listener.ts';
import type { AuthorizationResponseMessage } from './authorization-response.ts';
import type { Clock, DocumentLike, WindowLike } from './types.ts';

export interface SilentDeps {
  window: WindowLike;
  document: DocumentLike | null;
  clock: Clock;
  origin: string;
  timeoutMs: number;
}

/**
 * A silent sign-in (`prompt=none`): the authorize URL in a hidden iframe, whose redirect page posts the answer to
 * this window. `timeout` when nothing came within `timeoutMs` (a server that showed a page instead, a frame that
 * could not load): a silent sign-in never hangs. The iframe is removed either way.
 */
export function awaitSilentAuthorization(deps: SilentDeps, url: string, state: string): Promise<AuthorizationResponseMessage | 'timeout'> {
  const body = deps.document?.body;
  if (!deps.document || !body) return Promise.resolve('timeout');
  const frame = deps.document.createElement('iframe');
  frame.setAttribute('hidden', '');
  frame.setAttribute('aria-hidden', 'true');
  frame.setAttribute('tabindex', '-1');
  frame.setAttribute('title', 'Lockstep silent sign-in');
  return new Promise((resolve) => {
    const finish = (result: AuthorizationResponseMessage | 'timeout') => {
      stop();
      deps.clock.clearTimeout(timer);
      frame.remove();
      resolve(result);
    };
    const stop = listenForAuthorization(deps.window, { origin: deps.origin, source: () => frame.contentWindow, state }, finish);
    const timer = deps.clock.setTimeout(() => finish('timeout'), deps.timeoutMs);
    frame.src = url;
    body.appendChild(frame);
  });
}
