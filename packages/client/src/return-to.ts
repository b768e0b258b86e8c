import type { LocationLike } from './types.ts';

/** Query parameter the redirect callback adds to `returnTo` when a silent sign-in (`prompt: 'none'`) needs the user. */
export const LOGIN_REQUIRED_PARAM = 'lockstep_login_required';

/** The current screen as a same-origin path: pathname + search + hash, without the login-required marker. */
export function currentPath(location: Pick<LocationLike, 'pathname' | 'search' | 'hash'>): string {
  return withoutMarker(`${location.pathname}${location.search}${location.hash}`);
}

/** Only same-origin paths are followed after sign-in (no open redirect through `returnTo`). */
export function safeReturnTo(value: string, location: Pick<LocationLike, 'href'>): string {
  if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) return value;
  try {
    const here = new URL(location.href);
    const there = new URL(value, here);
    if (there.origin === here.origin) return `${there.pathname}${there.search}${there.hash}`;
  } catch {
    // not a URL
  }
  return '/';
}

export function withMarker(path: string): string {
  const [beforeHash, hash] = splitHash(path);
  return `${beforeHash}${beforeHash.includes('?') ? '&' : '?'}${LOGIN_REQUIRED_PARAM}=1${hash}`;
}

function withoutMarker(path: string): string {
  const [beforeHash, hash] = splitHash(path);
  const [pathname, query = ''] = beforeHash.split(/\?(.*)/s, 2) as [string, string?];
  const params = new URLSearchParams(query);
  if (!params.has(LOGIN_REQUIRED_PARAM)) return path;
  params.delete(LOGIN_REQUIRED_PARAM);
  const rest = params.toString();
  return `${pathname}${rest ? `?${rest}` : ''}${hash}`;
}

function splitHash(path: string): [string, string] {
  const i = path.indexOf('#');
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i)];
}

/**
 * True on the page the redirect callback sent back to after a silent sign-in found no sign-in session:
 * show the sign-in button (or call `signIn()`).
 */
export function isLoginRequired(location: Pick<LocationLike, 'search'> = globalThis.location): boolean {
  return new URLSearchParams(location.search).has(LOGIN_REQUIRED_PARAM);
}
