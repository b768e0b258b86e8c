import { responseFromQuery, stateKind, type AuthorizationKind } from './authorization-response.ts';
import { exchangeCode } from './code-exchange.ts';
import { LockstepError } from './errors.ts';
import { sessionStorageOrMemory } from './memory-storage.ts';
import { browserClock } from './options.ts';
import { withMarker } from './return-to.ts';
import { clearReturnTo, saveToken, takePending } from './session-storage.ts';
import type { RedirectCallbackOptions } from './types.ts';

/** Errors of a silent sign-in that mean "the user has to sign in", not "something broke" (OIDC Core §3.1.2.6). */
export const NEEDS_USER: ReadonlySet<string> = new Set(['login_required', 'interaction_required', 'consent_required', 'account_selection_required']);

/** Where a redirect page goes once it handed a popup or silent answer over: nowhere (the popup closes, the frame is removed). */
export const HANDED_OVER = 'about:blank';
/**
 * The opener closes the popup as soon as it has the answer. The popup closes itself only after this long (an opener
 * that is gone): closing at once could lose the message, which arrives without a `source` once its window is gone.
 */
export const POPUP_SELF_CLOSE_MS = 3000;

/**
 * On the redirect page. After a redirect sign-in: exchanges `?code` for a token with the verifier saved by
 * `signIn()`, stores the token for that client in sessionStorage and answers where to go (`location.replace(returnTo)`);
 * a silent redirect that needs the user answers `returnTo` with the login-required marker (see `isLoginRequired`).
 * After a popup or silent sign-in (marked in `state`): posts the answer to the window that started it (the opener,
 * or the parent frame), addressed to this page's origin only, and answers `about:blank` (a popup first waits to be
 * closed by its opener, and closes itself after POPUP_SELF_CLOSE_MS otherwise).
 */
export async function handleRedirectCallback(options: RedirectCallbackOptions): Promise<string> {
  const params = new URLSearchParams((options.location ?? globalThis.location).search);
  const state = params.get('state');
  const kind = state ? stateKind(state) : 'redirect';
  // Before any storage is touched: a silent answer's page is a third-party frame, which may be denied sessionStorage.
  if (kind !== 'redirect') return handOver(kind, params, options);

  const storage = options.storage ?? sessionStorageOrMemory();
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const issuer = options.issuer.replace(/\/+$/, '');

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

  saveToken(storage, pending.clientId, await exchangeCode(fetchFn, issuer, code, pending, Date.now()));
  clearReturnTo(storage, pending.clientId);
  return pending.returnTo;
}

/** The answer goes, as it is, to the window that holds the verifier; it exchanges the code itself. */
async function handOver(kind: Exclude<AuthorizationKind, 'redirect'>, params: URLSearchParams, options: RedirectCallbackOptions): Promise<string> {
  const win = options.window === undefined ? (globalThis as { window?: RedirectCallbackOptions['window'] }).window ?? null : options.window;
  const target = kind === 'popup' ? win?.opener : win?.parent;
  if (!target || target === win) {
    throw new LockstepError('opener_missing', kind === 'popup'
      ? 'This sign-in window lost the page that opened it. Close it and sign in again from the app.'
      : 'This silent sign-in answer has no frame to go to. Sign in again from the app.');
  }
  const origin = options.location?.origin ?? (globalThis as { location?: { origin?: string } }).location?.origin ?? new URL(options.redirectUri).origin;
  target.postMessage(responseFromQuery(params), origin);
  if (kind === 'popup') {
    const clock = options.clock ?? browserClock;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, POPUP_SELF_CLOSE_MS));
    win?.close?.();
  }
  return HANDED_OVER;
}
