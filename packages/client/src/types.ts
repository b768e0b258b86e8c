/** Public types of the SDK, and the small interfaces of everything it lets a test (or a host) inject. */

export type LockstepState = 'starting' | 'signed_out' | 'signing_in' | 'signed_in' | 'ended';

export interface LockstepUser {
  id: string;
  email: string;
  name: string;
}

/** Why a session ended. The first five are the server's `token_revoked` reasons; `expired` is plain token expiry. */
export type SignOutReason = 'logout' | 'universal_logout' | 'idle_timeout' | 'admin_logoff' | 'global_revocation' | 'expired';

export type ChannelState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LockstepEvents {
  stateChange: { state: LockstepState };
  signedIn: { user: LockstepUser | null; idleExpiresAt: number | null };
  signedOut: { reason: SignOutReason; initiatingClientId: string | null; selfInitiated: boolean; message: string; idleTimeoutMinutes: number | null };
  /** Emitted once per deadline, `idleWarningMs` before it. */
  idleWarning: { idleExpiresAt: number; msLeft: number };
  /** The idle deadline moved later after an `idleWarning` (activity here, in another tab, or `staySignedIn()`): hide the warning. */
  idleReset: { idleExpiresAt: number | null };
  /** `attempt` (1 = first retry) and `delayMs` come with `reconnecting`. */
  channel: { state: ChannelState; attempt?: number; delayMs?: number };
  notification: { topicName: string; eventBody: Record<string, unknown> };
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
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  assign(url: string): void;
}

export interface MessageEventLike {
  origin: string;
  data: unknown;
}

/** The part of `window` the SDK uses: input listeners, host-page messages, the parent frame. */
export interface WindowLike {
  addEventListener(type: string, listener: (event: any) => void, options?: AddEventListenerOptions | boolean): void;
  removeEventListener(type: string, listener: (event: any) => void, options?: EventListenerOptions | boolean): void;
  readonly parent?: { postMessage(message: unknown, targetOrigin: string): void } | null;
}

export interface LockstepOptions {
  /** Base URL of the Lockstep server, e.g. `https://auth.example.com`. */
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** Default `openid profile email`. */
  scope?: string;
  /** Token check while no channel is up (default 30000). */
  heartbeatIntervalMs?: number;
  /** Emit `idleWarning` this long before the idle deadline (default 60000). */
  idleWarningMs?: number;
  /** `input`: keyboard, pointer, touch and scroll also count as activity (throttled). Default `api`. */
  activity?: 'api' | 'input';
  /** Minimum gap between activity calls (default 30000). */
  activityThrottleMs?: number;
  /** Embedded in an iframe: parent origins whose `{type:'lockstep:activity'}` messages count, and that are told about sign-out. */
  allowedHostOrigins?: string[];
  fetch?: typeof fetch;
  WebSocket?: WebSocketConstructor;
  clock?: Clock;
  random?: () => number;
  storage?: StorageLike;
  broadcast?: ((name: string) => BroadcastLike) | null;
  location?: LocationLike;
  window?: WindowLike | null;
}

export interface RedirectCallbackOptions {
  issuer: string;
  redirectUri: string;
  fetch?: typeof fetch;
  storage?: StorageLike;
  location?: Pick<LocationLike, 'search'>;
}
