import { isAuthorizationResponse, type AuthorizationResponseMessage } from './authorization-response.ts';
import type { MessageEventLike, WindowLike } from './types.ts';

export interface ExpectedSender {
  /** This page's origin: the redirect page posts to its own origin, which must be this one. */
  origin: string;
  /** The popup or the hidden iframe's window: nobody else's message counts. */
  source(): unknown;
  state: string;
}

/**
 * Listens for the authorization answer of one sign-in: from `origin`, from that window, for that `state`.
 * Any other message is ignored (another origin, another window, a stale or forged state). Answers the stop function.
 */
export function listenForAuthorization(win: WindowLike, expected: ExpectedSender, onResponse: (r: AuthorizationResponseMessage) => void): () => void {
  const listener = (event: MessageEventLike) => {
    if (event.origin !== expected.origin) return;
    if (event.source == null || event.source !== expected.source()) return;
    if (!isAuthorizationResponse(event.data) || event.data.state !== expected.state) return;
    stop();
    onResponse(event.data);
  };
  const stop = () => win.removeEventListener('message', listener);
  win.addEventListener('message', listener);
  return stop;
}
