/**
 * What a 401 says about the token, read from `WWW-Authenticate: Bearer error="invalid_token", error_description="..."`.
 * The server names the problem: "...has been revoked", "...expired after the idle timeout", "...has expired".
 */
export type TokenProblem = 'revoked' | 'idle_timeout' | 'expired' | 'invalid';

export function tokenProblem(header: string | null): TokenProblem | null {
  if (!header || !/^\s*bearer\b/i.test(header)) return null;
  const params = authParams(header.replace(/^\s*bearer\s*/i, ''));
  if (params.error !== 'invalid_token') return null;
  const description = (params.error_description ?? '').toLowerCase();
  if (description.includes('idle')) return 'idle_timeout';
  if (description.includes('revoked')) return 'revoked';
  if (description.includes('expired')) return 'expired';
  return 'invalid';
}

/** `a="x", b=y` → {a:'x', b:'y'} (RFC 9110 auth-params, quoted strings with backslash escapes). */
function authParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_\-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out[m[1]!.toLowerCase()] = m[2] != null ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}
