// The admin console: sign-in as an org admin, then Organization Settings, Users, Applications and the audit log.
import { Lockstep } from '../../../../../client/src/index.ts';
import { ApiError, makeApi, type Api } from './api.ts';
import { h, replaceChildren } from './dom.ts';
import { routeOf, shell, type Shell } from './shell.ts';
import { messageScreen } from './screens.ts';

declare global {
  interface Window {
    LOCKSTEP_CONFIG?: { issuer: string };
  }
}

const issuer = window.LOCKSTEP_CONFIG?.issuer ?? location.origin;
const redirectUri = `${issuer}/admin/callback`;
const CLIENT_KEY = 'lockstep-admin:clientId';

/**
 * Each org's console is a client of its own (client ids are global): the demo org's `admin-console`, or the
 * one `lockstep org create` printed the URL of (`/admin?client_id=…`), kept for this tab's later visits.
 */
function consoleClientId(): string {
  const named = new URLSearchParams(location.search).get('client_id');
  if (named) sessionStorage.setItem(CLIENT_KEY, named);
  return named ?? sessionStorage.getItem(CLIENT_KEY) ?? 'admin-console';
}
const root = document.getElementById('app')!;

/** /admin/callback: finish the code exchange, then back to where sign-in started. */
async function finishSignIn() {
  try {
    const returnTo = await Lockstep.handleRedirectCallback({ issuer, redirectUri });
    location.replace(returnTo);
  } catch (err) {
    messageScreen(root, {
      title: 'Sign-in did not complete',
      text: (err as Error).message,
      actions: [h('a', { href: '/admin', className: 'button' }, 'Try again')],
      alert: true,
    });
  }
}

async function isAdmin(api: Api): Promise<boolean> {
  try {
    await api.get('/api/v2/users?pageSize=1');
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return false;
    throw err;
  }
}

/** Ends this client's token, then asks for a password even though the sign-in session is still there. */
async function switchUser(ls: Lockstep) {
  await ls.signOut();
  await ls.signIn({ prompt: 'login' });
}

async function boot() {
  const ls = new Lockstep({ issuer, clientId: consoleClientId(), redirectUri });
  let current: Shell | null = null;
  // After signing out here, the next sign-in asks for the password again (the sign-in session may still be open).
  const signInButton = (prompt?: 'login') => h('button', { type: 'button', onclick: () => void ls.signIn(prompt ? { prompt } : {}) }, 'Sign in');

  ls.on('signedOut', (e) => {
    current?.destroy();
    current = null;
    messageScreen(root, { title: 'Signed out', text: e.message, actions: [signInButton(e.selfInitiated ? 'login' : undefined)], alert: !e.selfInitiated });
  });

  const state = await ls.start();
  if (state !== 'signed_in') {
    messageScreen(root, {
      title: 'Lockstep Admin',
      text: 'Sign in with an organization administrator account to manage authentication settings, users, applications and the audit log.',
      actions: [signInButton()],
    });
    return;
  }

  const api = makeApi((path, init) => ls.fetch(path, init));
  if (!(await isAdmin(api))) {
    const who = ls.user ? `${ls.user.name} (${ls.user.email})` : 'This account';
    messageScreen(root, {
      title: 'You need the admin role',
      text: `${who} is signed in but does not have the admin role in this organization. Ask an administrator for the role, or sign out and sign in with an admin account.`,
      actions: [
        h('button', { type: 'button', onclick: () => void switchUser(ls) }, 'Sign in as another user'),
        h('button', { type: 'button', className: 'secondary', onclick: () => void ls.signOut() }, 'Sign out'),
      ],
      alert: true,
    });
    return;
  }

  current = shell(root, { api, user: ls.user, signOut: () => void ls.signOut() });
  void current.show(routeOf(location.hash), false);
}

if (location.pathname === '/admin/callback') {
  void finishSignIn();
} else {
  boot().catch((err: unknown) => {
    replaceChildren(root, h('p', { className: 'field-error', role: 'alert' }, `The console could not start: ${(err as Error).message}`));
  });
}
