/** The header in which Lockstep answers the token's idle deadline after accounting the request (ISO-8601). */
export const IDLE_EXPIRES_HEADER = 'lockstep-idle-expires';

/** Paths whose authenticated answers always carry the header when an idle timeout applies (the contract). */
const ALWAYS_TOLD = [/^\/api\/v2\//, /^\/oauth\/userinfo$/];

/**
 * The idle deadline a response tells (ms epoch), `null` when it says no idle timeout applies, or `undefined` when
 * it says nothing. A successful answer on a path the contract covers that has no header means "no idle timeout";
 * elsewhere (other paths, errors) a missing header is no news. `path` is relative to the issuer.
 */
export function idleDeadlineOf(response: Response, path: string): number | null | undefined {
  const value = response.headers.get(IDLE_EXPIRES_HEADER);
  if (value != null) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return response.ok && ALWAYS_TOLD.some((re) => re.test(path)) ? null : undefined;
}
