import { TOKEN_INFO_PATH, type AuthorizedApi } from './api.ts';
import type { Clock, LockstepUser } from './types.ts';
import { tokenProblem, type TokenProblem } from './www-authenticate.ts';

/** `GET /api/v2/tokens/me`, in the units the SDK works with (ms epoch). */
export interface TokenInfo {
  user: LockstepUser | null;
  idleExpiresAt: number | null;
  /** null: no idle timeout applies to this token. */
  idleTimeoutMs: number | null;
  expiresAt: number | null;
}

export type TokenInfoResult = { ok: true; info: TokenInfo } | { ok: false; status: number; problem: TokenProblem | null };

interface TokenInfoBody {
  user?: LockstepUser | null;
  expiresAt?: string;
  idleExpiresAt?: string | null;
  idleTimeoutSeconds?: number | null;
}

const time = (iso: string | null | undefined) => {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : null;
};

/**
 * Reads the token's info; `preserve` asks the server not to count the call as activity.
 * Throws only when the server cannot be reached.
 */
export async function readTokenInfo(api: AuthorizedApi, clock: Clock, preserve: boolean): Promise<TokenInfoResult> {
  const startedAt = clock.now();
  const { response, body } = await api.json<TokenInfoBody>(`${TOKEN_INFO_PATH}${preserve ? '?preserveIdleTTL=true' : ''}`);
  if (!body) return { ok: false, status: response.status, problem: response.status === 401 ? tokenProblem(response.headers.get('www-authenticate')) : null };
  const idleExpiresAt = time(body.idleExpiresAt);
  let idleTimeoutMs: number | null = typeof body.idleTimeoutSeconds === 'number' ? body.idleTimeoutSeconds * 1000 : null;
  if (body.idleTimeoutSeconds === undefined && idleExpiresAt != null) {
    // A server without idleTimeoutSeconds: a call that counts as activity puts the deadline one timeout after it.
    if (preserve) return readTokenInfo(api, clock, false);
    idleTimeoutMs = Math.max(1000, Math.round((idleExpiresAt - startedAt) / 1000) * 1000);
  }
  return { ok: true, info: { user: body.user ?? null, idleExpiresAt, idleTimeoutMs, expiresAt: time(body.expiresAt) } };
}
