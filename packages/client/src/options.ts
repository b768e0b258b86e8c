import { LockstepError } from './errors.ts';
import { sessionStorageOrMemory } from './memory-storage.ts';
import type { BroadcastLike, Clock, DocumentLike, LocationLike, LockstepOptions, StorageLike, WebSocketConstructor, WindowLike } from './types.ts';

/** Options with every default filled in and every injectable resolved. */
export interface Settings {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  heartbeatIntervalMs: number;
  idleWarningMs: number;
  activity: 'api' | 'input';
  activityThrottleMs: number;
  allowedHostOrigins: string[];
  silentTimeoutMs: number;
  fetch: typeof fetch;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  random: () => number;
  storage: StorageLike;
  broadcast: ((name: string) => BroadcastLike) | null;
  location: LocationLike;
  window: WindowLike | null;
  document: DocumentLike | null;
}

export const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

const g = globalThis as Partial<{
  WebSocket: unknown; BroadcastChannel: new (name: string) => BroadcastLike; location: LocationLike; window: WindowLike;
  document: DocumentLike;
}>;

function required<T>(value: T | undefined | null, what: string): T {
  if (value == null || value === '') throw new LockstepError('invalid_options', `Lockstep needs ${what}`);
  return value;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value == null) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new LockstepError('invalid_options', `${what} must be a number of milliseconds ≥ 0`);
  return value;
}

export function resolveOptions(o: LockstepOptions): Settings {
  const issuer = required(o.issuer, 'an issuer (the Lockstep server URL)').replace(/\/+$/, '');
  try {
    new URL(issuer);
  } catch {
    throw new LockstepError('invalid_options', `The issuer is not a URL: ${issuer}`);
  }
  const broadcastDefault = typeof g.BroadcastChannel === 'function' ? (name: string) => new g.BroadcastChannel!(name) : null;
  return {
    issuer,
    clientId: required(o.clientId, 'a clientId'),
    redirectUri: required(o.redirectUri, 'a redirectUri'),
    scope: o.scope ?? 'openid profile email',
    heartbeatIntervalMs: positive(o.heartbeatIntervalMs, 30_000, 'heartbeatIntervalMs') || 30_000,
    idleWarningMs: positive(o.idleWarningMs, 60_000, 'idleWarningMs'),
    activity: o.activity ?? 'api',
    activityThrottleMs: positive(o.activityThrottleMs, 30_000, 'activityThrottleMs'),
    allowedHostOrigins: o.allowedHostOrigins ?? [],
    silentTimeoutMs: positive(o.silentTimeoutMs, 1000, 'silentTimeoutMs'),
    fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
    WebSocket: o.WebSocket ?? required(g.WebSocket as WebSocketConstructor | undefined, 'a WebSocket implementation'),
    clock: o.clock ?? browserClock,
    random: o.random ?? Math.random,
    storage: o.storage ?? sessionStorageOrMemory(),
    broadcast: o.broadcast === undefined ? broadcastDefault : o.broadcast,
    location: o.location ?? required(g.location, 'a location (or the location option)'),
    window: o.window === undefined ? (g.window ?? null) : o.window,
    document: o.document === undefined ? (g.document ?? null) : o.document,
  };
}
