import { randomString, s256 } from './pkce.ts';
import { savePending } from './session-storage.ts';
import type { StorageLike } from './types.ts';

export interface AuthorizationRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  prompt: 'none' | 'login' | null;
  returnTo: string;
  storage: StorageLike;
  now: number;
}

/**
 * Starts an authorization-code request with PKCE S256: saves the verifier, nonce and returnTo under
 * a fresh `state` in sessionStorage, and answers the /oauth/authorize URL to send the browser to.
 */
export async function authorizationUrl(r: AuthorizationRequest): Promise<string> {
  const state = randomString(16);
  const nonce = randomString(16);
  const codeVerifier = randomString(32);
  savePending(r.storage, state, {
    clientId: r.clientId, redirectUri: r.redirectUri, codeVerifier, nonce, returnTo: r.returnTo, prompt: r.prompt, createdAt: r.now,
  });
  const url = new URL(`${r.issuer}/oauth/authorize`);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: r.clientId,
    redirect_uri: r.redirectUri,
    scope: r.scope,
    state,
    nonce,
    code_challenge: await s256(codeVerifier),
    code_challenge_method: 'S256',
  };
  if (r.prompt) params.prompt = r.prompt;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
