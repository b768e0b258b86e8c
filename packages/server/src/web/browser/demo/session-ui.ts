import { describeSignOut, isLoginRequired, Lockstep, type LockstepEvents } from '../../../../../client/src/index.ts';
import { h, mount } from './dom.ts';

/** The screen every demo client shows once signed out: why, and a way back in (to the same screen). */
export function showSignedOut(ls: Lockstep, e: LockstepEvents['signedOut'] | null, appName: string): void {
  const message = e ? describeSignOut(e) : `Sign in to use ${appName}.`;
  mount(h('div', { class: 'signed-out', role: 'alert', 'data-testid': 'signed-out' },
    h('h1', {}, e ? 'You are signed out' : appName),
    h('p', { 'data-testid': 'signed-out-reason' }, message),
    h('button', { onclick: () => void ls.signIn(), 'data-testid': 'sign-in-again' }, e ? 'Sign in again' : 'Sign in')));
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
 * Starts a demo client. `silent`: when there is no session yet, first try the browser's sign-in
 * session (prompt=none) — how an embedded app signs in without a second password.
 */
export function startClient(options: ConstructorParameters<typeof Lockstep>[0], appName: string, render: (ls: Lockstep) => void, silent = false): Lockstep {
  const ls = new Lockstep(options);
  ls.on('signedOut', (e) => showSignedOut(ls, e, appName));
  idleWarning(ls, warningSlot);
  void ls.start().then((state) => {
    if (state === 'signed_in') render(ls);
    else if (state === 'signed_out' && silent && !isLoginRequired()) void ls.signIn({ prompt: 'none' });
    else if (state === 'signed_out') showSignedOut(ls, null, appName);
  });
  return ls;
}
