import { LockstepError } from './errors.ts';
import type { TokenRecord } from './session-storage.ts';
import type { Clock } from './types.ts';
import { tokenProblem, type TokenProblem } from './www-authenticate.ts';

export interface ApiDeps {
  issuer: string;
  fetch: typeof fetch;
  clock: Clock;
  token(): TokenRecord | null;
  /** The server counted a call made at `at` as activity of the token. */
  onActivity(at: number): void;
  /** The server refused the token (only called while `token` is still the current one). */
  onRejected(problem: TokenProblem, token: TokenRecord): void;
}

export const TOKEN_INFO_PATH = '/api/v2/tokens/me';

/**
 * Calls the server with the bearer token. Mirrors the server's activity rule: every authenticated call
 * counts, except `GET /api/v2/tokens/me?preserveIdleTTL=true`. A 401 naming the token is reported once.
 */
export class AuthorizedApi {
  readonly #origin: string;

  constructor(private readonly deps: ApiDeps) {
    this.#origin = new URL(deps.issuer).origin;
  }

  async call(path: string, init: RequestInit = {}): Promise<Response> {
    const token = this.deps.token();
    if (!token) throw new LockstepError('not_signed_in', 'Not signed in: there is no access token to send');
    const url = this.#resolve(path);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token.accessToken}`);
    const startedAt = this.deps.clock.now();
    const response = await this.deps.fetch(url.toString(), { ...init, headers });
    if (response.status === 401) {
      const problem = tokenProblem(response.headers.get('www-authenticate'));
      if (problem && this.deps.token()?.sid === token.sid) this.deps.onRejected(problem, token);
    } else if (countsAsActivity(init.method ?? 'GET', url)) {
      this.deps.onActivity(startedAt);
    }
    return response;
  }

  /** A JSON body as `T`, or a LockstepError-free `null` for any non-2xx answer (the caller decides). */
  async json<T>(path: string, init: RequestInit = {}): Promise<{ response: Response; body: T | null }> {
    const response = await this.call(path, init);
    const body = response.ok ? ((await response.json().catch(() => null)) as T | null) : null;
    return { response, body };
  }

  /** Relative paths go to the issuer; an absolute URL must be on the issuer's origin (the token never leaves it). */
  #resolve(path: string): URL {
    if (path.startsWith('/') && !path.startsWith('//')) return new URL(this.deps.issuer + path);
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw new LockstepError('foreign_url', `Not a path or URL: ${path}`);
    }
    if (url.origin !== this.#origin) throw new LockstepError('foreign_url', `Refusing to send the access token to ${url.origin}; only ${this.#origin} gets it`);
    return url;
  }
}

export function countsAsActivity(method: string, url: URL): boolean {
  const preserving = method.toUpperCase() === 'GET' && url.pathname.endsWith(TOKEN_INFO_PATH) && url.searchParams.get('preserveIdleTTL') === 'true';
  return !preserving;
}
