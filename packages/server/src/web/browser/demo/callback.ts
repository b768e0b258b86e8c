import { Lockstep } from '../../../../../client/src/index.ts';
import { config, h, mount } from './dom.ts';

/**
 * The demo clients' redirect page. After a redirect sign-in: back to the screen it started from. After a popup or
 * silent sign-in (the SDK marks them in `state`): the answer is posted to the widget that started it (the opener, or
 * the parent frame) for its own origin, the popup closes, and this page goes blank.
 */
const { issuer } = config();
Lockstep.handleRedirectCallback({ issuer, redirectUri: `${location.origin}/demo/callback` })
  .then((returnTo) => location.replace(returnTo))
  .catch((err: Error) => mount(h('div', { class: 'signed-out', role: 'alert' }, h('h1', {}, 'Sign-in failed'), h('p', {}, err.message),
    h('a', { href: '/demo/agent' }, 'Back to the demo'))));
