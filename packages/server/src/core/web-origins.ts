import type { Client } from './records.ts';

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]'];

/** `scheme://host[:port]` of a URL, or null when it has none (not http(s), not a URL). */
export function originOf(uri: string): string | null {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** `http://127.0.0.1` or `http://[::1]` for a loopback origin, which is allowed on any port (RFC 8252 §7.3, as its redirect URIs are); else null. */
export function loopbackKey(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname) ? `http://${url.hostname}` : null;
  } catch {
    return null;
  }
}

/** The web origins a browser may call Lockstep from for this client: those of its redirect URIs, and its `allowedOrigins`. */
export interface WebOrigins {
  exact: Set<string>;
  /** `http://127.0.0.1`, `http://[::1]`: any port, because a loopback redirect's port is free. */
  loopback: Set<string>;
}

export function webOriginsOf(clients: Iterable<Pick<Client, 'redirectUris' | 'allowedOrigins'>>, into: WebOrigins = { exact: new Set(), loopback: new Set() }): WebOrigins {
  for (const c of clients) {
    for (const uri of [...c.redirectUris, ...c.allowedOrigins]) {
      const origin = originOf(uri);
      if (!origin) continue;
      into.exact.add(origin);
      const key = loopbackKey(origin);
      if (key) into.loopback.add(key);
    }
  }
  return into;
}

export function originAllowed(origins: WebOrigins, origin: string): boolean {
  if (origins.exact.has(origin)) return true;
  const key = loopbackKey(origin);
  return key != null && origins.loopback.has(key);
}

/** A browser's `Origin` header may call Lockstep on behalf of this client. */
export const clientAllowsOrigin = (client: Pick<Client, 'redirectUris' | 'allowedOrigins'>, origin: string) =>
  originAllowed(webOriginsOf([client]), origin);
