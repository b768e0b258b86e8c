import { config, h, mount } from './dom.ts';

/**
 * The host: a CRM page (not a Lockstep client itself), served from another site than Lockstep, that embeds the
 * agent widget and forwards the agent's activity in the CRM to it, so working in the CRM keeps the widget's token
 * alive. Messages go to the widget's origin only, and only the widget's own messages are read.
 */
const FORWARD_EVERY_MS = 2000;
const { widgetUrl = '/demo/embedded' } = config();
const widgetOrigin = new URL(widgetUrl, location.href).origin;
const frame = h('iframe', { src: widgetUrl, title: 'Agent widget (crm-embedded)', 'data-testid': 'crm-iframe' });
const forwarded = h('span', { 'data-testid': 'forwarded' }, '0');
const banner = h('p', { role: 'status', 'data-testid': 'host-banner', class: 'muted' }, 'The widget reports its sign-out here.');
let count = 0;
let last = 0;

function forwardActivity() {
  const now = Date.now();
  if (now - last < FORWARD_EVERY_MS) return;
  last = now;
  frame.contentWindow?.postMessage({ type: 'lockstep:activity' }, widgetOrigin);
  forwarded.textContent = String(++count);
}

window.addEventListener('message', (e) => {
  if (e.origin !== widgetOrigin || e.source !== frame.contentWindow) return;
  const data = e.data as { type?: string; message?: string };
  if (data?.type === 'lockstep:signed-out') banner.textContent = `Agent widget signed out: ${data.message ?? ''}`;
});
for (const type of ['keydown', 'pointerdown', 'scroll']) document.addEventListener(type, forwardActivity, { passive: true });

const contacts = [['Dana Whitfield', 'Renewal due', 'Open'], ['Luis Ortega', 'Billing question', 'Waiting'], ['Mei Chen', 'New lead', 'Open']];
mount(
  h('header', {}, h('h1', {}, 'Acme CRM'), h('span', { 'data-testid': 'crm-site' }, `Host page · ${location.host}`)),
  h('div', { class: 'crm-layout' },
    h('section', { class: 'card' }, h('h2', {}, 'Contacts'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Topic'), h('th', {}, 'Status'))),
        h('tbody', {}, ...contacts.map((c) => h('tr', {}, ...c.map((v) => h('td', {}, v)))))),
      h('p', {}, h('label', { for: 'note' }, 'Note'), h('input', { id: 'note', placeholder: 'Type here: the widget counts it as activity' })),
      h('p', { class: 'muted' }, 'Activity forwarded to the widget: ', forwarded),
      banner),
    frame),
);
