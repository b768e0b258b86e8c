import { startAuthorization } from './authorize.ts';
import type { Settings } from './options.ts';
import { currentPath, safeReturnTo } from './return-to.ts';
import { loadReturnTo, savePending } from './session-storage.ts';

/**
 * The redirect flow: saves the request (verifier, nonce, the screen to come back to) under its `state` in
 * sessionStorage and sends this page to /oauth/authorize; `handleRedirectCallback` on the redirect page finishes it.
 */
export async function redirectToSignIn(s: Settings, opts: { prompt?: 'none' | 'login'; returnTo?: string }, beforeLeaving: () => void): Promise<void> {
  const returnTo = safeReturnTo(opts.returnTo ?? loadReturnTo(s.storage, s.clientId) ?? currentPath(s.location), s.location);
  const started = await startAuthorization({
    issuer: s.issuer, clientId: s.clientId, redirectUri: s.redirectUri, scope: s.scope, prompt: opts.prompt ?? null,
    returnTo, kind: 'redirect', now: s.clock.now(),
  });
  savePending(s.storage, started.state, started.pending);
  beforeLeaving();
  s.location.assign(started.url);
}
