import { listenForAuthorization } from './authorization-listener.ts';
import type { AuthorizationResponseMessage } from './authorization-response.ts';
import type { Clock, PopupLike, WindowLike } from './types.ts';

/** How often the SDK looks whether the user closed the popup. */
export const POPUP_POLL_MS = 500;
const POPUP_NAME = 'lockstep-sign-in';
const POPUP_FEATURES = 'popup=yes,width=480,height=640';

/**
 * Opens the (blank) sign-in popup. Call it before any `await` in a click handler: browsers allow a popup only
 * during a user gesture. null: blocked (or no `window.open` here).
 */
export function openSignInPopup(win: WindowLike | null): PopupLike | null {
  try {
    return win?.open?.('about:blank', POPUP_NAME, POPUP_FEATURES) ?? null;
  } catch {
    return null;
  }
}

export interface PopupDeps {
  window: WindowLike;
  clock: Clock;
  origin: string;
}

/**
 * Sends the popup to the authorize URL and waits for its redirect page to post the answer for `state`, then closes
 * the popup (the redirect page does not close itself at once: a message whose window is gone arrives without a
 * `source`, and is refused). A popup the user closed counts as `cancelled` (one poll after it was seen closed).
 */
export function awaitPopupAuthorization(deps: PopupDeps, popup: PopupLike, url: string, state: string): Promise<AuthorizationResponseMessage | 'cancelled'> {
  return new Promise((resolve) => {
    let timer: unknown = null;
    let seenClosed = false;
    const finish = (result: AuthorizationResponseMessage | 'cancelled') => {
      stop();
      if (timer != null) deps.clock.clearTimeout(timer);
      if (result !== 'cancelled') closeQuietly(popup);
      resolve(result);
    };
    const stop = listenForAuthorization(deps.window, { origin: deps.origin, source: () => popup, state }, finish);
    const poll = () => {
      timer = null;
      if (seenClosed) return finish('cancelled');
      seenClosed = isClosed(popup);
      timer = deps.clock.setTimeout(poll, POPUP_POLL_MS);
    };
    try {
      popup.location.replace(url);
    } catch {
      return finish('cancelled'); // closed already
    }
    timer = deps.clock.setTimeout(poll, POPUP_POLL_MS);
  });
}

function closeQuietly(popup: PopupLike): void {
  try {
    popup.close();
  } catch {
    // gone already
  }
}

function isClosed(popup: PopupLike): boolean {
  try {
    return popup.closed;
  } catch {
    return false;
  }
}
