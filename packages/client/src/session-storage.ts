import type { LockstepUser, StorageLike } from './types.ts';

/**
 * What the SDK keeps in `sessionStorage` (per tab, never localStorage):
 * - `lockstep:{clientId}:token` — the access token of this client, with a local id `sid` the tabs use to agree on which token they mean;
 * - `lockstep:{clientId}:returnTo` — where to go back after signing in again;
 * - `lockstep:pending:{state}` — an authorization request in flight (PKCE verifier, nonce, returnTo).
 */
export interface TokenRecord {
  accessToken: string;
  /** Absolute expiry (ms epoch), when known. */
  expiresAt: number | null;
  /** Local id of this token, shared by the tabs that use it. */
  sid: string;
  /** The user as last seen, so a tab that starts offline still knows who is signed in. */
  user?: LockstepUser | null;
}

export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  prompt: 'none' | 'login' | null;
  createdAt: number;
}

const tokenKey = (clientId: string) => `lockstep:${clientId}:token`;
const returnToKey = (clientId: string) => `lockstep:${clientId}:returnTo`;
const pendingKey = (state: string) => `lockstep:pending:${state}`;

function read<T>(storage: StorageLike, key: string, valid: (v: any) => boolean): T | null {
  try {
    const raw = storage.getItem(key);
    const value: unknown = raw == null ? null : JSON.parse(raw);
    return value != null && valid(value) ? (value as T) : null;
  } catch {
    return null;
  }
}

function write(storage: StorageLike, key: string, value: unknown): void {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the token stays in memory only.
  }
}

function remove(storage: StorageLike, key: string): void {
  try {
    storage.removeItem(key);
  } catch {
    // storage disabled
  }
}

export const isTokenRecord = (v: any): v is TokenRecord => typeof v?.accessToken === 'string' && typeof v.sid === 'string';

export const loadToken = (s: StorageLike, clientId: string) => read<TokenRecord>(s, tokenKey(clientId), isTokenRecord);
export const saveToken = (s: StorageLike, clientId: string, token: TokenRecord) => write(s, tokenKey(clientId), token);
export const clearToken = (s: StorageLike, clientId: string) => remove(s, tokenKey(clientId));

export const loadReturnTo = (s: StorageLike, clientId: string) => read<string>(s, returnToKey(clientId), (v) => typeof v === 'string');
export const saveReturnTo = (s: StorageLike, clientId: string, path: string) => write(s, returnToKey(clientId), path);
export const clearReturnTo = (s: StorageLike, clientId: string) => remove(s, returnToKey(clientId));

export const savePending = (s: StorageLike, state: string, p: PendingAuthorization) => write(s, pendingKey(state), p);

/** Reads and removes a pending authorization request: a state value is good for one callback only. */
export function takePending(s: StorageLike, state: string): PendingAuthorization | null {
  const pending = read<PendingAuthorization>(s, pendingKey(state), (v) => typeof v?.codeVerifier === 'string' && typeof v.clientId === 'string');
  remove(s, pendingKey(state));
  return pending;
}
