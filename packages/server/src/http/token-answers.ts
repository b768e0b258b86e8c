import type { ApiError } from '../core/errors.ts';

/** Tells a client its token's idle deadline, so it need not re-implement the idle policy (exposed to CORS callers). */
export const IDLE_EXPIRES_HEADER = 'lockstep-idle-expires';

const quoted = (value: string) => `"${value.replace(/["\\]/g, "'")}"`;

/** RFC 6750 §3 challenge for a refused bearer token, with the stable code (and reason) as extra auth-params: HEAD answers carry no body. */
export function wwwAuthenticate(err: ApiError): string {
  if (err.code === 'token.missing') return `Bearer realm="lockstep", code="token.missing"`;
  const reason = err.reason ? `, reason=${quoted(err.reason)}` : '';
  return `Bearer error="invalid_token", error_description=${quoted(err.message)}, code=${quoted(err.code)}${reason}`;
}

