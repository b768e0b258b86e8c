/**
 * Exact string match, except that for a client that chose it (a native app) a loopback IP redirect
 * matches on any port (RFC 8252 §7.3). Only the canonical spelling counts: no fragment, no `0x7f.1`.
 */
export function redirectUriMatches(registered: readonly string[], candidate: string, loopbackAnyPort = false): boolean {
  if (registered.includes(candidate)) return true;
  if (!loopbackAnyPort) return false;
  const c = parseLoopback(candidate);
  if (!c) return false;
  return registered.some((r) => {
    const reg = parseLoopback(r);
    return reg != null && reg.hostname === c.hostname && reg.rest === c.rest;
  });
}

function parseLoopback(uri: string): { hostname: string; rest: string } | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(url.hostname) || url.username || url.password || url.hash) return null;
  const rest = url.pathname + url.search;
  // The URL parser turns 2130706433, 0x7f.1 or a trailing '#' into 127.0.0.1: the spelling must already be that.
  if (uri !== `http://${url.host}${rest}` && uri !== `http://${url.host}`) return null;
  return { hostname: url.hostname, rest };
}
