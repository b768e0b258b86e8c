import { LockstepError } from './errors.ts';
import { isFramedCrossOrigin } from './framing.ts';
import { signInInPage, type InPageResult } from './in-page-sign-in.ts';
import type { Settings } from './options.ts';
import { openSignInPopup } from './popup-sign-in.ts';
import { redirectToSignIn } from './redirect-sign-in.ts';
import type { TokenRecord } from './session-storage.ts';
import type { SessionState } from './session-state.ts';
import type { LockstepState, PopupLike, SignInOptions, SignInOutcome } from './types.ts';

export interface SignInHost {
  readonly state: SessionState;
  /** A session is there (signing in again switches users). */
  hasSession(): boolean;
  /** The popup was blocked: tell the app (`signInBlocked`). */
  blocked(): void;
  /** An in-page sign-in got a token: replace any session with it, as after a redirect sign-in. */
  adopt(token: TokenRecord): Promise<LockstepState>;
}

type InPageMode = 'popup' | 'silent' | 'auto';

/**
 * Which sign-in runs, and the session state around it. Redirect by default; framed by another origin, `auto`:
 * silent, then the popup when the user has to sign in (straight to the popup for `prompt: 'login'`).
 * One in-page sign-in at a time: a second call joins the first.
 */
export class SignInController {
  #inPage: Promise<SignInOutcome> | null = null;

  constructor(private readonly s: Settings, private readonly host: SignInHost) {}

  signIn(opts: SignInOptions): Promise<SignInOutcome> {
    const s = this.s;
    const display = opts.display ?? (isFramedCrossOrigin(s.window, s.location) ? 'in_page' : 'redirect');
    if (display === 'redirect') return redirectToSignIn(s, opts, () => this.host.state.to('signing_in')).then(() => 'redirecting');
    if (this.#inPage) return this.#inPage;
    if (!s.window) return Promise.reject(new LockstepError('invalid_options', `A ${display} sign-in needs a window`));
    const mode: InPageMode = display !== 'in_page' ? display : opts.prompt === 'login' ? 'popup' : opts.prompt === 'none' ? 'silent' : 'auto';
    // Opened before anything is awaited: the browser allows a popup only while the user's click is being handled.
    const popup = mode === 'popup' ? openSignInPopup(s.window) : null;
    const run = this.#run(mode, mode === 'silent' ? 'none' : (opts.prompt ?? null), popup);
    this.#inPage = run.finally(() => (this.#inPage = null));
    return this.#inPage;
  }

  /** Popup or silent sign-in: this page stays, exchanges the code itself, and becomes signed in as after a redirect. */
  async #run(mode: InPageMode, prompt: 'none' | 'login' | null, popup: PopupLike | null): Promise<SignInOutcome> {
    const { state } = this.host;
    const before = state.current;
    state.to('signing_in');
    const back = () => void state.to(before === 'signed_in' && this.host.hasSession() ? 'signed_in' : 'signed_out');
    let result: InPageResult;
    try {
      result = mode === 'popup' && !popup ? { outcome: 'popup_blocked' } : await signInInPage(this.s, mode, prompt, popup);
    } catch (err) {
      back();
      throw err;
    }
    if (result.outcome !== 'signed_in') {
      back();
      if (result.outcome === 'popup_blocked') this.host.blocked();
      return result.outcome;
    }
    return (await this.host.adopt(result.token)) === 'signed_in' ? 'signed_in' : 'login_required';
  }
}
