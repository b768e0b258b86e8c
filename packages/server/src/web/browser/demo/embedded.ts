import type { Lockstep } from '../../../../../client/src/index.ts';
import { config, h, mount } from './dom.ts';
import { startClient, warningSlot } from './session-ui.ts';

/** The agent app as the CRM embeds it: its own client (crm-embedded), signed in through the sign-in session. */
const { issuer } = config();
startClient({
  issuer, clientId: 'crm-embedded', redirectUri: `${location.origin}/demo/callback`,
  heartbeatIntervalMs: 10_000, idleWarningMs: 60_000, activity: 'input', activityThrottleMs: 5_000,
  allowedHostOrigins: [location.origin],
}, 'Agent widget', render, true);

function render(ls: Lockstep) {
  const user = ls.user!;
  mount(
    h('header', {}, h('h1', {}, 'Agent widget'), h('button', { class: 'danger', onclick: () => void ls.signOut() }, 'Log out')),
    h('main', {}, warningSlot,
      h('section', { class: 'card', 'data-testid': 'embedded-signed-in' },
        h('h2', {}, 'Signed in'), h('p', {}, `${user.name}`), h('p', { class: 'muted' }, user.email),
        h('p', { class: 'muted' }, 'Activity in the CRM around this widget keeps this session alive.'))),
  );
}
