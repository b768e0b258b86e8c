import { LockstepError } from './errors.ts';
import { jwtClaims, randomString } from './pkce.ts';
import type { PendingAuthorization, TokenRecord } from './session-storage.ts';

interface TokenResponse {
  access_token: string;
  expires_in?: number;
  id_token?: string;
}

/**
 * POST /oauth/token (authorization_code, PKCE verifier, public client): the token for `code`, its ID token's nonce
 * checked. From another origin than the issuer's this is a CORS request, which Lockstep answers for allowed origins.
 * Answers the token as the SDK stores it.
 */
export async function exchangeCode(fetchFn: typeof fetch, issuer: string, code: string, pending: PendingAuthorization, now: number): Promise<TokenRecord> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri,
    code_verifier: pending.codeVerifier,
    client_id: pending.clientId,
  });
  let response: Response;
  try {
    response = await fetchFn(`${issuer}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body,
    });
  } catch (err) {
    throw new LockstepError('token_exchange_failed', 'Could not reach the sign-in server to finish signing in', { cause: err });
  }
  const json = (await response.json().catch(() => null)) as (Partial<TokenResponse> & { error?: string; error_description?: string }) | null;
  if (!response.ok || typeof json?.access_token !== 'string') {
    const why = json?.error ? `${json.error}${json.error_description ? ` (${json.error_description})` : ''}` : `HTTP ${response.status}`;
    throw new LockstepError('token_exchange_failed', `Finishing the sign-in failed: ${why}`);
  }
  if (json.id_token) {
    const nonce = jwtClaims(json.id_token)?.nonce;
    if (nonce !== pending.nonce) throw new LockstepError('nonce_mismatch', 'The ID token does not carry the nonce of this sign-in');
  }
  return {
    accessToken: json.access_token,
    expiresAt: typeof json.expires_in === 'number' ? now + json.expires_in * 1000 : null,
    sid: randomString(12),
  };
}
