import type { Lockstep } from '../../../../../client/src/index.ts';
import { config, h, mount } from './dom.ts';
import { startClient, warningSlot } from './session-ui.ts';

/**
 * The agent app as the CRM embeds it: its own client (crm-embedded). Inside the CRM's frame (another site) it signs
 * in silently, else through a popup, using the agent's sign-in session. The host pages it accepts activity from and
 * tells about its sign-out: the demo CRM on its own site (when served) and /demo/crm on Lockstep's origin.
 */
const { issuer, crmOrigin } = config();
const hostOrigins = [new URL(issuer).origin, ...(crmOrigin ? [crmOrigin] : [])];
startClient({
  issuer, clientId: 'crm-embedded', redirectUri: `${location.origin}/demo/callback`,
  heartbeatIntervalMs: 10_000, idleWarningMs: 60_000, activity: 'input', activityThrottleMs: 5_000,
  allowedHostOrigins: hostOrigins,
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
