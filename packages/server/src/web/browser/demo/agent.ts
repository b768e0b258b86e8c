import type { Lockstep } from '../../../../../client/src/index.ts';
import { config, h, mount, select, type Choice } from './dom.ts';
import { startClient, warningSlot } from './session-ui.ts';

const ROUTING: Choice[] = ['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING'].map((s) => ({ value: s, label: s }));
const SCREENS = { queue: 'Queue', contacts: 'Contacts', reports: 'Reports' } as const;
type Screen = keyof typeof SCREENS;

const { issuer } = config();
startClient({
  issuer, clientId: 'agent-desktop', redirectUri: `${location.origin}/demo/callback`,
  heartbeatIntervalMs: 10_000, idleWarningMs: 60_000, activity: 'input', activityThrottleMs: 5_000,
}, 'Agent Desktop', render);

async function json(ls: Lockstep, path: string, method = 'GET', body?: unknown) {
  const res = await ls.fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return res.ok && res.status !== 204 ? res.json() : null;
}

interface PresenceDefinition {
  id: string;
  systemPresence: string;
  languageLabels?: { en_US?: string };
  deactivated?: boolean;
}

/** The org's presences to choose from, named as the platform names them, and the id of "Offline". */
async function presenceChoices(ls: Lockstep): Promise<{ choices: Choice[]; offlineId: string }> {
  const definitions: PresenceDefinition[] = (await json(ls, '/api/v2/presence/definitions'))?.entities ?? [];
  const active = definitions.filter((d) => !d.deactivated);
  return {
    choices: active.map((d) => ({ value: d.id, label: d.languageLabels?.en_US ?? d.systemPresence })),
    offlineId: active.find((d) => d.systemPresence === 'Offline')?.id ?? '',
  };
}

async function render(ls: Lockstep) {
  const user = ls.user!;
  const presencePath = `/api/v2/users/${user.id}/presences/purecloud`;
  const routingPath = `/api/v2/users/${user.id}/routingstatus`;
  const [presences, presence, routing] = await Promise.all([presenceChoices(ls), json(ls, presencePath), json(ls, routingPath)]);
  const routingSelect = select('routing', 'Routing status', ROUTING, routing?.status ?? 'OFF_QUEUE',
    (v) => void json(ls, routingPath, 'PUT', { status: v }));
  const presenceSelect = select('presence', 'Presence', presences.choices, presence?.presenceDefinition?.id ?? presences.offlineId, async (id) => {
    await json(ls, presencePath, 'PATCH', { presenceDefinition: { id } });
    // "On Queue" puts the agent on queue (IDLE), any other presence off it: show what the server made of it.
    routingSelect.control.value = (await json(ls, routingPath))?.status ?? routingSelect.control.value;
  });

  const idleLine = h('p', { class: 'muted', 'data-testid': 'idle-status' });
  const tick = () => {
    idleLine.textContent = ls.idleExpiresAt
      ? `Idle timeout: signed out at ${new Date(ls.idleExpiresAt).toLocaleTimeString()} without activity`
      : 'No idle timeout applies right now';
  };
  tick();
  setInterval(tick, 1000);

  const interaction = h('p', { 'data-testid': 'interaction-state' }, 'No interaction');
  const feed = (state: string) => async () => {
    const r = await json(ls, '/demo/platform/interactions/demo-call', 'PUT', { type: 'voice', state });
    interaction.textContent = state === 'disconnected' ? 'No interaction' : `Voice call: ${state}${r?.idleTimeoutExempt ? ' (idle timeout paused)' : ''}`;
  };

  const screen = h('section', { class: 'card', 'data-testid': 'screen' });
  const showScreen = () => {
    const name = (location.hash.replace('#/', '') || 'queue') as Screen;
    screen.replaceChildren(h('h2', {}, SCREENS[name] ?? 'Queue'), h('p', { class: 'muted' }, `You are on the ${SCREENS[name] ?? 'Queue'} screen.`));
  };
  window.addEventListener('hashchange', showScreen);
  showScreen();

  mount(
    h('header', {},
      h('h1', {}, 'Agent Desktop'),
      h('nav', { 'aria-label': 'Screens' }, ...Object.entries(SCREENS).map(([k, label]) => h('a', { href: `#/${k}` }, label))),
      h('span', { 'data-testid': 'user' }, `${user.name} · ${user.email}`),
      h('button', { class: 'danger', 'data-testid': 'logout', onclick: () => void ls.signOut() }, 'Log out')),
    h('main', {},
      warningSlot,
      h('section', { class: 'card' }, h('h2', {}, 'Status'),
        h('div', { class: 'row' }, presenceSelect.element, routingSelect.element),
        idleLine),
      h('section', { class: 'card' }, h('h2', {}, 'Interaction (simulated platform feed)'), interaction,
        h('div', { class: 'row' },
          h('button', { onclick: feed('connected') }, 'Answer call'),
          h('button', { class: 'secondary', onclick: feed('held') }, 'Hold'),
          h('button', { class: 'secondary', onclick: feed('acw') }, 'After-call work'),
          h('button', { class: 'secondary', onclick: feed('disconnected') }, 'End'))),
      screen),
  );
}
