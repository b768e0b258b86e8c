import { LockstepError } from './errors.ts';
import { idleDeadlineOf } from './idle-header.ts';
import type { TokenRecord } from './session-storage.ts';
import { readRefusal, type TokenRefusal } from './token-refusal.ts';

export interface ApiDeps {
  issuer: string;
  fetch: typeof fetch;
  token(): TokenRecord | null;
  /** The server told the token's idle deadline (null: no idle timeout applies) in an answer to `token`. */
  onIdleDeadline(deadline: number | null, token: TokenRecord): void;
  /** The server refused the token (only called while `token` is still the current one). */
  onRejected(refusal: TokenRefusal, token: TokenRecord): void;
}

export const TOKEN_INFO_PATH = '/api/v2/tokens/me';
/** The token check that is never activity: the server neither counts it nor moves the idle deadline. */
export const TOKEN_CHECK_PATH = `${TOKEN_INFO_PATH}?preserveIdleTTL=true`;

/**
 * Calls the server with the bearer token. It does not decide what counts as activity: the server does, and
 * answers the resulting idle deadline in `Lockstep-Idle-Expires`, which is passed on. A 401 is reported once.
 */
export class AuthorizedApi {
  readonly #origin: string;
  /** The issuer's own path (an issuer may live under a prefix), cut from paths before they are compared. */
  readonly #basePath: string;

  constructor(private readonly deps: ApiDeps) {
    const issuer = new URL(deps.issuer);
    this.#origin = issuer.origin;
    this.#basePath = issuer.pathname.replace(/\/+$/, '');
  }

  async call(path: string, init: RequestInit = {}): Promise<Response> {
    const token = this.deps.token();
    if (!token) throw new LockstepError('not_signed_in', 'Not signed in: there is no access token to send');
    const url = this.#resolve(path);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token.accessToken}`);
    const response = await this.deps.fetch(url.toString(), { ...init, headers });
    const current = this.deps.token()?.sid === token.sid;
    if (response.status === 401) {
      const refusal = await readRefusal(response);
      if (refusal && current) this.deps.onRejected(refusal, token);
    } else if (current) {
      const path = url.pathname.startsWith(this.#basePath) ? url.pathname.slice(this.#basePath.length) : url.pathname;
      const deadline = idleDeadlineOf(response, path);
      if (deadline !== undefined) this.deps.onIdleDeadline(deadline, token);
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
