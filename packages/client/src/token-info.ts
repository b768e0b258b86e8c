import { TOKEN_CHECK_PATH, TOKEN_INFO_PATH, type AuthorizedApi } from './api.ts';
import { idleDeadlineOf } from './idle-header.ts';
import { readRefusal, type TokenRefusal } from './token-refusal.ts';
import type { LockstepUser } from './types.ts';

/** `GET /api/v2/tokens/me`, in the units the SDK works with (ms epoch). */
export interface TokenInfo {
  user: LockstepUser | null;
  idleExpiresAt: number | null;
  /** null: no idle timeout applies to this token (or the server does not say). */
  idleTimeoutMs: number | null;
  expiresAt: number | null;
}

export type TokenInfoResult = { ok: true; info: TokenInfo } | { ok: false; status: number; refusal: TokenRefusal | null };

/** The fields of the server's `TokenInfo` (Genesys Cloud's model plus Lockstep's extras) the SDK reads. */
interface TokenInfoBody {
  user?: LockstepUser | null;
  expiresAt?: string;
  dateTokenIdles?: string;
  idleTimeoutSeconds?: number | null;
}

const time = (iso: string | null | undefined) => {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : null;
};

/**
 * Reads the token's info; `preserve` (`?preserveIdleTTL=true`) asks the server not to count the call as activity.
 * The deadline is the one of `Lockstep-Idle-Expires`, else the body's `dateTokenIdles`. Throws only when the server cannot be reached.
 */
export async function readTokenInfo(api: AuthorizedApi, preserve: boolean): Promise<TokenInfoResult> {
  const { response, body } = await api.json<TokenInfoBody>(preserve ? TOKEN_CHECK_PATH : TOKEN_INFO_PATH);
  if (!body) return { ok: false, status: response.status, refusal: response.status === 401 ? await readRefusal(response) : null };
  const told = idleDeadlineOf(response, TOKEN_INFO_PATH);
  return {
    ok: true,
    info: {
      user: body.user ?? null,
      idleExpiresAt: told !== undefined ? told : time(body.dateTokenIdles),
      idleTimeoutMs: typeof body.idleTimeoutSeconds === 'number' ? body.idleTimeoutSeconds * 1000 : null,
      expiresAt: time(body.expiresAt),
    },
  };
}
