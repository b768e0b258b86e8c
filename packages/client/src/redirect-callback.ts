import { LockstepError } from './errors.ts';
import { jwtClaims, randomString } from './pkce.ts';
import { withMarker } from './return-to.ts';
import { clearReturnTo, saveToken, takePending, type PendingAuthorization } from './session-storage.ts';
import type { RedirectCallbackOptions } from './types.ts';

/** Errors of a silent sign-in that mean "the user has to sign in", not "something broke" (OIDC Core §3.1.2.6). */
const NEEDS_USER = new Set(['login_required', 'interaction_required', 'consent_required', 'account_selection_required']);

interface TokenResponse {
  access_token: string;
  expires_in?: number;
  id_token?: string;
}

/**
 * On the redirect page: exchanges `?code` for a token with the verifier saved by `signIn()`, stores the
 * token for that client in sessionStorage and answers where to go (`location.replace(returnTo)`).
 * A silent sign-in that needs the user answers `returnTo` with the login-required marker (see `isLoginRequired`).
 */
export async function handleRedirectCallback(options: RedirectCallbackOptions): Promise<string> {
  const storage = options.storage ?? globalThis.sessionStorage;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const issuer = options.issuer.replace(/\/+$/, '');
  const params = new URLSearchParams((options.location ?? globalThis.location).search);

  const state = params.get('state');
  const pending = state ? takePending(storage, state) : null;
  if (!pending) {
    throw new LockstepError('unknown_state', 'This sign-in response does not match a sign-in started in this tab (unknown or reused state). Start the sign-in again.');
  }
  const iss = params.get('iss');
  if (iss != null && iss.replace(/\/+$/, '') !== issuer) {
    throw new LockstepError('issuer_mismatch', `The sign-in response comes from ${iss}, not from ${issuer}`);
  }
  const error = params.get('error');
  if (error) {
    if (pending.prompt === 'none' && NEEDS_USER.has(error)) return withMarker(pending.returnTo);
    const description = params.get('error_description');
    throw new LockstepError('authorization_error', `Sign-in failed: ${error}${description ? ` (${description})` : ''}`);
  }
  const code = params.get('code');
  if (!code) throw new LockstepError('authorization_error', 'The sign-in response has neither a code nor an error');

  const token = await exchangeCode(fetchFn, issuer, code, pending, options.redirectUri);
  saveToken(storage, pending.clientId, {
    accessToken: token.access_token,
    expiresAt: typeof token.expires_in === 'number' ? Date.now() + token.expires_in * 1000 : null,
    sid: randomString(12),
  });
  clearReturnTo(storage, pending.clientId);
  return pending.returnTo;
}

async function exchangeCode(fetchFn: typeof fetch, issuer: string, code: string, pending: PendingAuthorization, redirectUri: string): Promise<TokenResponse> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri || redirectUri,
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
  return json as TokenResponse;
}
