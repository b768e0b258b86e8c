import { Lockstep } from '../../../../../client/src/index.ts';
import { config, h, mount } from './dom.ts';

const { issuer } = config();
Lockstep.handleRedirectCallback({ issuer, redirectUri: `${location.origin}/demo/callback` })
  .then((returnTo) => location.replace(returnTo))
  .catch((err: Error) => mount(h('div', { class: 'signed-out', role: 'alert' }, h('h1', {}, 'Sign-in failed'), h('p', {}, err.message),
    h('a', { href: '/demo/agent' }, 'Back to the demo'))));
