import type { AuthorizationResponseMessage } from './authorization-response.ts';
import { startAuthorization } from './authorize.ts';
import { exchangeCode } from './code-exchange.ts';
import { LockstepError } from './errors.ts';
import type { Settings } from './options.ts';
import { awaitPopupAuthorization, openSignInPopup } from './popup-sign-in.ts';
import { NEEDS_USER } from './redirect-callback.ts';
import type { TokenRecord } from './session-storage.ts';
import { awaitSilentAuthorization } from './silent-sign-in.ts';
import type { PopupLike } from './types.ts';

export type InPageResult = { outcome: 'signed_in'; token: TokenRecord } | { outcome: 'login_required' | 'cancelled' | 'popup_blocked' };

/**
 * A sign-in that keeps this page: silent (hidden iframe, `prompt=none`), popup, or `auto` (silent, then the popup
 * when the user has to sign in). This page keeps the PKCE verifier in memory and exchanges the code itself.
 * `popup`: a popup already opened during the user's click (see openSignInPopup), or null to open one when needed.
 */
export async function signInInPage(
  s: Settings, mode: 'silent' | 'popup' | 'auto', prompt: 'none' | 'login' | null, popup: PopupLike | null,
): Promise<InPageResult> {
  if (mode !== 'popup') {
    const silent = await silently(s);
    if (silent.outcome !== 'login_required' || mode === 'silent') return silent;
    popup = openSignInPopup(s.window);
  }
  return popup ? throughPopup(s, popup, prompt) : { outcome: 'popup_blocked' };
}

async function silently(s: Settings): Promise<InPageResult> {
  const started = await begin(s, 'silent', 'none');
  const answer = await awaitSilentAuthorization(
    { window: s.window!, document: s.document, clock: s.clock, origin: ownOrigin(s), timeoutMs: s.silentTimeoutMs }, started.url, started.state);
  if (answer === 'timeout' || (answer.error && NEEDS_USER.has(answer.error))) return { outcome: 'login_required' };
  return finish(s, answer, started.pending);
}

async function throughPopup(s: Settings, popup: PopupLike, prompt: 'none' | 'login' | null): Promise<InPageResult> {
  let started: Awaited<ReturnType<typeof begin>>;
  try {
    started = await begin(s, 'popup', prompt);
  } catch (err) {
    popup.close();
    throw err;
  }
  const answer = await awaitPopupAuthorization({ window: s.window!, clock: s.clock, origin: ownOrigin(s) }, popup, started.url, started.state);
  if (answer === 'cancelled') return { outcome: 'cancelled' };
  return finish(s, answer, started.pending);
}

function begin(s: Settings, kind: 'silent' | 'popup', prompt: 'none' | 'login' | null) {
  return startAuthorization({
    issuer: s.issuer, clientId: s.clientId, redirectUri: s.redirectUri, scope: s.scope, prompt, returnTo: '', kind, now: s.clock.now(),
  });
}

async function finish(s: Settings, answer: AuthorizationResponseMessage, pending: Awaited<ReturnType<typeof begin>>['pending']): Promise<InPageResult> {
  if (answer.iss != null && answer.iss.replace(/\/+$/, '') !== s.issuer) {
    throw new LockstepError('issuer_mismatch', `The sign-in response comes from ${answer.iss}, not from ${s.issuer}`);
  }
  if (answer.error || !answer.code) {
    const why = answer.error ? `${answer.error}${answer.error_description ? ` (${answer.error_description})` : ''}` : 'no code';
    throw new LockstepError('authorization_error', `Sign-in failed: ${why}`);
  }
  return { outcome: 'signed_in', token: await exchangeCode(s.fetch, s.issuer, answer.code, pending, s.clock.now()) };
}

const ownOrigin = (s: Settings) => new URL(s.location.href).origin;
