import { markState, type AuthorizationKind } from './authorization-response.ts';
import { randomString, s256 } from './pkce.ts';
import type { PendingAuthorization } from './session-storage.ts';

export interface AuthorizationRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  prompt: 'none' | 'login' | null;
  returnTo: string;
  kind: AuthorizationKind;
  now: number;
}

export interface StartedAuthorization {
  /** The /oauth/authorize URL to open. */
  url: string;
  state: string;
  /** What the code exchange needs: kept in sessionStorage for a redirect, in memory for a popup or silent sign-in. */
  pending: PendingAuthorization;
}

/** An authorization-code request with PKCE S256, a fresh `state` (marked with its kind) and a nonce. */
export async function startAuthorization(r: AuthorizationRequest): Promise<StartedAuthorization> {
  const state = markState(r.kind, randomString(16));
  const nonce = randomString(16);
  const codeVerifier = randomString(32);
  const pending: PendingAuthorization = {
    clientId: r.clientId, redirectUri: r.redirectUri, codeVerifier, nonce, returnTo: r.returnTo, prompt: r.prompt, createdAt: r.now,
  };
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
  return { url: url.toString(), state, pending };
}
