/**
 * A `WWW-Authenticate` challenge, read as RFC 9110 auth-params:
 * `Bearer error="invalid_token", error_description="...", code="token.revoked", reason="logout"`.
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string | null): Challenge | null {
  const match = header ? /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(header) : null;
  if (!match) return null;
  return { scheme: match[1]!.toLowerCase(), params: authParams(match[2]!) };
}

/** `a="x", b=y` → {a:'x', b:'y'} (quoted strings with backslash escapes; names lower-cased). */
function authParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_\-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out[m[1]!.toLowerCase()] = m[2] != null ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}
