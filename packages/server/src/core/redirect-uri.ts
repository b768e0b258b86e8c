/**
 * Exact string match, except that for a loopback IP redirect the port is free (RFC 8252 §7.3):
 * native apps and tests listen on whatever port they got.
 */
export function redirectUriMatches(registered: readonly string[], candidate: string): boolean {
  if (registered.includes(candidate)) return true;
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
  if (url.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(url.hostname) || url.username || url.password) return null;
  return { hostname: url.hostname, rest: url.pathname + url.search };
}
