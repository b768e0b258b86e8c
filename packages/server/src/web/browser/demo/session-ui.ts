import { describeSignOut, isLoginRequired, Lockstep, type LockstepEvents } from '../../../../../client/src/index.ts';
import { h, mount } from './dom.ts';

/** A framed page signs in through a popup (a click opens it); a top-level page through the redirect. */
const signInFromClick = (ls: Lockstep, embedded: boolean) => () =>
  void ls.signIn(embedded && window.top !== window ? { display: 'popup' } : {}).catch((err: Error) => showProblem(ls, err, embedded));

/** The screen every demo client shows once signed out: why, and a way back in (to the same screen). */
export function showSignedOut(ls: Lockstep, e: LockstepEvents['signedOut'] | null, appName: string, embedded = false, note?: string): void {
  const message = e ? describeSignOut(e) : `Sign in to use ${appName}.`;
  mount(h('div', { class: 'signed-out', role: 'alert', 'data-testid': 'signed-out' },
    h('h1', {}, e ? 'You are signed out' : appName),
    h('p', { 'data-testid': 'signed-out-reason' }, message),
    note ? h('p', { class: 'muted', 'data-testid': 'sign-in-note' }, note) : null,
    h('button', { onclick: signInFromClick(ls, embedded), 'data-testid': 'sign-in-again' }, e ? 'Sign in again' : 'Sign in')));
}

function showProblem(ls: Lockstep, err: Error, embedded: boolean): void {
  mount(h('div', { class: 'signed-out', role: 'alert', 'data-testid': 'sign-in-failed' },
    h('h1', {}, 'Sign-in did not complete'), h('p', {}, err.message),
    h('button', { onclick: signInFromClick(ls, embedded), 'data-testid': 'sign-in-again' }, 'Try again')));
}

/** Where the idle warning shows; pages place it, the listener is set before start() so no warning is missed. */
export const warningSlot = h('div', { 'data-testid': 'warning-slot' });

/** Warns before an idle timeout, with a button that records activity. */
function idleWarning(ls: Lockstep, container: HTMLElement): void {
  ls.on('idleReset', () => container.replaceChildren());
  ls.on('idleWarning', ({ idleExpiresAt }) => {
    const seconds = Math.max(0, Math.round((idleExpiresAt - Date.now()) / 1000));
    container.replaceChildren(h('div', { class: 'warning', role: 'alertdialog', 'aria-label': 'Idle warning', 'data-testid': 'idle-warning' },
      h('strong', {}, 'Are you still there? '),
      `You will be signed out in about ${seconds} seconds without activity. `,
      h('button', {
        'data-testid': 'stay-signed-in',
        onclick: async () => {
          await ls.staySignedIn();
          container.replaceChildren();
        },
      }, 'Stay signed in')));
  });
}

/**
 * Starts a demo client; `render` runs at every sign-in (at start, after a popup sign-in, or when another tab signed in).
 * `embedded`: with no session yet, sign in at once with the SDK's own choice — inside a frame of another site a
 * silent sign-in, then a popup (no password when the agent is signed in to the main app); a blocked popup shows a
 * "Sign in" button, whose click may open it.
 */
export function startClient(options: ConstructorParameters<typeof Lockstep>[0], appName: string, render: (ls: Lockstep) => void, embedded = false): Lockstep {
  const ls = new Lockstep(options);
  ls.on('signedOut', (e) => showSignedOut(ls, e, appName, embedded));
  ls.on('signedIn', () => render(ls));
  ls.on('signInBlocked', () => showSignedOut(ls, null, appName, embedded, 'The browser blocked the sign-in window: click Sign in to open it.'));
  idleWarning(ls, warningSlot);
  void ls.start().then(async (state) => {
    if (state !== 'signed_out') return;
    if (!embedded || isLoginRequired()) return showSignedOut(ls, null, appName, embedded);
    const outcome = await ls.signIn().catch((err: Error) => (showProblem(ls, err, embedded), null));
    if (outcome === 'cancelled' || outcome === 'login_required') showSignedOut(ls, null, appName, embedded);
  });
  return ls;
}
