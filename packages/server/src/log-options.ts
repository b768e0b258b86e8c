import type { LoggerOptions } from 'pino';

/** Query parameters that carry a credential: their values never reach a log line. */
const SECRET_PARAMS = /([?&](?:code|id_token_hint|logout_token|refresh_token|access_token|token|client_secret|code_verifier|password|confirm)=)[^&#]*/gi;

export const redactUrl = (url: string) => url.replace(SECRET_PARAMS, '$1[redacted]');

export const MASK = '********';

/** A connection URL with its password (in the user info or in a `password` parameter) masked. */
export function maskUrl(raw: string): string {
  if (!URL.canParse(raw)) return MASK;
  const url = new URL(raw);
  const auth = url.username ? `${url.username}${url.password ? `:${MASK}` : ''}@` : url.password ? `:${MASK}@` : '';
  const params = new URLSearchParams(url.search);
  for (const key of [...params.keys()]) if (/pass|secret|key/i.test(key)) params.set(key, MASK);
  const search = params.size ? `?${params.toString().replaceAll(encodeURIComponent(MASK), MASK)}` : '';
  return `${url.protocol}//${auth}${url.host}${url.pathname === '/' && !raw.endsWith('/') ? '' : url.pathname}${search}`;
}

/** The server's log: request lines without credentials in headers or URLs, at any level. */
export function logOptions(level: string): LoggerOptions {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: {
      req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({ method: req.method, url: req.url && redactUrl(req.url), id: req.id, remoteAddress: req.ip }),
    },
  };
}
