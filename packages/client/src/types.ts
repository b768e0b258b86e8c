/** Public types of the SDK, and the small interfaces of everything it lets a test (or a host) inject. */

export type LockstepState = 'starting' | 'signed_out' | 'signing_in' | 'signed_in' | 'ended';

export interface LockstepUser {
  id: string;
  email: string;
  name: string;
}

/**
 * Why a session ended. The revocation reasons are the server's (`token.revoked` with `reason`, or the channel's
 * `token_revoked`); `idle_timeout` and `expired` are the codes `token.idle_timeout` and `token.expired`;
 * `invalid_token` is `token.unknown`/`token.malformed`/`token.missing`; `unknown` is a code (or a reason) this SDK
 * does not know yet.
 */
export type SignOutReason =
  | 'logout' | 'universal_logout' | 'idle_timeout' | 'admin_logoff' | 'global_revocation' | 'expired'
  | 'revocation' | 'refresh_reuse' | 'user_deleted' | 'client_deleted' | 'idp_logout' | 'scheduled_logout'
  | 'invalid_token' | 'unknown';

/** How `signIn()` ended. `redirecting`: the page is leaving for the sign-in page. */
export type SignInOutcome = 'redirecting' | 'signed_in' | 'login_required' | 'cancelled' | 'popup_blocked';

/**
 * `redirect`: this page goes to the sign-in page and comes back. `popup`: the sign-in page opens in a popup, this page
 * stays. `silent`: a hidden iframe with `prompt=none` (answers `login_required` within `silentTimeoutMs`).
 * Default: `silent`, then `popup`, when the page is framed by another origin; `redirect` otherwise.
 */
export type SignInDisplay = 'redirect' | 'popup' | 'silent';

export interface SignInOptions {
  display?: SignInDisplay;
  prompt?: 'none' | 'login';
  /** Redirect flow only: the screen to come back to (same origin). */
  returnTo?: string;
}

export type ChannelState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LockstepEvents {
  stateChange: { state: LockstepState };
  signedIn: { user: LockstepUser | null; idleExpiresAt: number | null };
  signedOut: { reason: SignOutReason; initiatingClientId: string | null; selfInitiated: boolean; message: string; idleTimeoutMinutes: number | null };
  /** Emitted once per deadline (the server's, from `Lockstep-Idle-Expires`), `idleWarningMs` before it. */
  idleWarning: { idleExpiresAt: number; msLeft: number };
  /** The server's idle deadline moved later after an `idleWarning` (activity here, in another tab, `staySignedIn()`): hide the warning. */
  idleReset: { idleExpiresAt: number | null };
  /** `attempt` (1 = first retry) and `delayMs` come with `reconnecting`. */
  channel: { state: ChannelState; attempt?: number; delayMs?: number };
  notification: { topicName: string; eventBody: Record<string, unknown> };
  /** The sign-in popup could not open (no user gesture): show a "Sign in" button that calls `signIn({ display: 'popup' })`. */
  signInBlocked: { reason: 'popup_blocked' };
}

/** Time, injectable so tests run minutes in microseconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** An event handler property, checked bivariantly so the DOM's richer event types fit. */
export type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null;

/** The part of a browser WebSocket the SDK uses (the DOM `WebSocket` satisfies it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason?: string }>;
  onerror: Handler<unknown>;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of `sessionStorage` the SDK uses. */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The part of a `BroadcastChannel` the SDK uses. */
export interface BroadcastLike {
  onmessage: Handler<{ data: unknown }>;
  postMessage(message: unknown): void;
  close(): void;
}

/** The part of `window.location` the SDK uses. */
export interface LocationLike {
  readonly href: string;
  /** The origins of the frames around this one, innermost first (Chromium, Safari). */
  readonly ancestorOrigins?: ArrayLike<string>;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  assign(url: string): void;
}

export interface MessageEventLike {
  origin: string;
  data: unknown;
  /** The window that posted the message. */
  source?: unknown;
}

/** A window the SDK can post to (a parent frame, an opener). */
export interface MessageTargetLike {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** The sign-in popup, as `window.open` answers it. */
export interface PopupLike {
  readonly closed: boolean;
  close(): void;
  readonly location: { replace(url: string): void };
}

/** The part of `window` the SDK uses: input listeners, host-page messages, the parent frame, popups. */
export interface WindowLike {
  addEventListener(type: string, listener: (event: any) => void, options?: AddEventListenerOptions | boolean): void;
  removeEventListener(type: string, listener: (event: any) => void, options?: EventListenerOptions | boolean): void;
  readonly parent?: MessageTargetLike | null;
  /** The top frame: not this window when the page is framed. */
  readonly top?: unknown;
  open?(url: string, target: string, features: string): PopupLike | null;
}

/** An iframe element, as the silent sign-in uses it. */
export interface FrameElementLike {
  src: string;
  readonly contentWindow: unknown;
  setAttribute(name: string, value: string): void;
  remove(): void;
}

/** The part of `document` the silent sign-in uses: one hidden iframe. */
export interface DocumentLike {
  createElement(tag: 'iframe'): FrameElementLike;
  readonly body: { appendChild(node: any): unknown } | null;
}

export interface LockstepOptions {
  /** Base URL of the Lockstep server, e.g. `https://auth.example.com`. */
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** Default `openid profile email`. */
  scope?: string;
  /** Token check while no channel is up, `HEAD /api/v2/tokens/me?preserveIdleTTL=true`: never activity (default 30000). */
  heartbeatIntervalMs?: number;
  /** Emit `idleWarning` this long before the idle deadline (default 60000). */
  idleWarningMs?: number;
  /** `input`: keyboard, pointer, touch and scroll also count as activity (throttled). Default `api`. */
  activity?: 'api' | 'input';
  /** Minimum gap between activity calls (default 30000). */
  activityThrottleMs?: number;
  /** Embedded in an iframe: parent origins whose `{type:'lockstep:activity'}` messages count, and that are told about sign-out. */
  allowedHostOrigins?: string[];
  /** How long a silent sign-in waits for its answer before it counts as `login_required` (default 1000). */
  silentTimeoutMs?: number;
  fetch?: typeof fetch;
  WebSocket?: WebSocketConstructor;
  clock?: Clock;
  random?: () => number;
  storage?: StorageLike;
  broadcast?: ((name: string) => BroadcastLike) | null;
  location?: LocationLike;
  window?: WindowLike | null;
  document?: DocumentLike | null;
}

export interface RedirectCallbackOptions {
  issuer: string;
  redirectUri: string;
  fetch?: typeof fetch;
  storage?: StorageLike;
  /** `origin`: where the page is (default: the redirect URI's origin); popup and silent answers are posted to it only. */
  location?: Pick<LocationLike, 'search'> & { readonly origin?: string };
  /** The callback page's window: its opener (popup sign-in) or parent (silent sign-in) gets the answer. */
  window?: { readonly opener?: MessageTargetLike | null; readonly parent?: MessageTargetLike | null; close?(): void } | null;
  /** Timers (the popup's fallback self-close). */
  clock?: Clock;
}
