/**
 * Web origins as the server reads them (the same rules, from core/web-origins.ts), so the console
 * can refuse what the server would before sending. The server has the last word.
 */
import { loopbackKey, originOf } from '../../../core/web-origins.ts';


export const MAX_ALLOWED_ORIGINS = 50;

export interface ShownOrigin {
  origin: string;
  /** A loopback host: shown without a port, since any port is allowed. */
  anyPort: boolean;
}

/** The origins the redirect URIs allow by themselves, each once, in order. */
export function redirectOrigins(redirectUris: string[]): ShownOrigin[] {
  const out: ShownOrigin[] = [];
  for (const uri of redirectUris) {
    const origin = originOf(uri);
    if (!origin) continue;
    const anyPort = loopbackKey(origin);
    const shownAs = anyPort ?? origin;
    if (!out.some((o) => o.origin === shownAs)) out.push({ origin: shownAs, anyPort: anyPort != null });
  }
  return out;
}

const EXAMPLE = 'https://app.example.com';

/** Why `entry` cannot join `list` (the same rule as the server: exactly an origin, no duplicates, at most 50), or null. */
export function problemWith(entry: string, list: string[]): string | null {
  if (!entry) return `Enter an origin, for example ${EXAMPLE}.`;
  const origin = originOf(entry);
  if (!origin) return `"${entry}" is not a web origin. Enter http:// or https://, a host and an optional port, for example ${EXAMPLE}.`;
  if (origin !== entry) return `"${entry}" is not an origin: ${notOriginBecause(entry)}. Use ${origin}.`;
  if (list.includes(entry)) return `${entry} is already in the list.`;
  if (list.length >= MAX_ALLOWED_ORIGINS) return `At most ${MAX_ALLOWED_ORIGINS} extra origins per application.`;
  return null;
}

function notOriginBecause(entry: string): string {
  const url = new URL(entry);
  if (url.username || url.password) return 'it must not contain a user name or password';
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(entry)) return 'it must not have a path, query or fragment';
  if (entry.endsWith('/')) return 'it must not end with a slash';
  return 'it must be written as browsers send it (lower case, no default port)';
}
