import type { Api, Client, LiveToken, Presence, RoutingStatus, User } from './api.ts';
import { enc } from './api.ts';
import { busy, button, h, replaceChildren, statusSlot } from './dom.ts';
import { confirmDialog } from './confirm-dialog.ts';
import { formatInstant, formatTime } from './format.ts';

interface UserState {
  presence: string | null;
  routing: string | null;
  tokens: LiveToken[];
}

async function stateOf(api: Api, userId: string): Promise<UserState> {
  const [presence, routing, tokens] = await Promise.allSettled([
    api.get<Presence>(`/api/v2/users/${enc(userId)}/presences/purecloud`),
    api.get<RoutingStatus>(`/api/v2/users/${enc(userId)}/routingstatus`),
    api.list<LiveToken>(`/api/v2/users/${enc(userId)}/tokens`),
  ]);
  return {
    presence: presence.status === 'fulfilled' ? presence.value.presenceDefinition.systemPresence : null,
    routing: routing.status === 'fulfilled' ? routing.value.status : null,
    tokens: tokens.status === 'fulfilled' ? tokens.value : [],
  };
}

const ROUTING_LABELS: Record<string, string> = { OFF_QUEUE: 'Off queue', IDLE: 'Idle', INTERACTING: 'Interacting', NOT_RESPONDING: 'Not responding' };

function tokensCell(tokens: LiveToken[], clientName: (id: string) => string) {
  if (!tokens.length) return h('span', { className: 'muted' }, 'None');
  const byClient = new Map<string, LiveToken[]>();
  for (const t of tokens) byClient.set(t.clientId, [...(byClient.get(t.clientId) ?? []), t]);
  return h('ul', { className: 'token-list' }, ...[...byClient].map(([clientId, list]) => {
    const lastActive = list.map((t) => t.lastActivityAt).sort().at(-1)!;
    const idle = list.map((t) => t.idleExpiresAt).filter((x): x is string => x != null).sort().at(-1);
    return h('li', {},
      h('strong', {}, clientName(clientId)), ` — ${list.length} token${list.length === 1 ? '' : 's'}`,
      h('br', {}),
      h('span', { className: 'muted small', title: formatInstant(lastActive) },
        `last active ${formatTime(lastActive)}`, idle ? `, idle expiry ${formatTime(idle)}` : ''));
  }));
}

/** Users: presence, routing status and live tokens per client, with an administrative "Log off" per user. */
export async function usersPage(api: Api): Promise<HTMLElement> {
  const [users, clients] = await Promise.all([
    api.list<User>('/api/v2/users'),
    api.list<Client>('/api/v2/oauth/clients').catch((): Client[] => []),
  ]);
  const names = new Map(clients.map((c) => [c.id, c.name]));
  const clientName = (id: string) => names.get(id) ?? id;
  const status = statusSlot();
  const tbody = h('tbody', {});

  function row(user: User) {
    const tr = h('tr', { 'data-user': user.email });
    const logOff = button('Log off', () => void confirmAndLogOff(), {
      className: 'danger small', 'aria-label': `Log off ${user.name} (${user.email})`,
    });

    async function refresh() {
      const s = await stateOf(api, user.id);
      replaceChildren(tr,
        h('th', { scope: 'row' }, h('span', { className: 'name' }, user.name), h('br', {}), h('span', { className: 'muted small' }, user.email)),
        h('td', {}, user.roles.join(', ') || '—'),
        h('td', {}, s.presence ? h('span', { className: `pill presence-${s.presence.toLowerCase().replace(/ /g, '-')}` }, s.presence) : '—'),
        h('td', {}, s.routing ? ROUTING_LABELS[s.routing] ?? s.routing : '—'),
        h('td', {}, tokensCell(s.tokens, clientName)),
        h('td', {}, logOff));
      return s;
    }

    async function confirmAndLogOff() {
      const ok = await confirmDialog({
        title: `Log off ${user.name}?`,
        body: `This ends every token and sign-in session of ${user.email} in every client, whatever the universal-logout setting, and tells their open clients at once. They will have to sign in again.`,
        confirm: 'Log off',
      });
      if (!ok) return;
      await busy(logOff, async () => {
        try {
          await api.send('DELETE', `/api/v2/tokens/${enc(user.id)}`);
          await refresh();
          status.set(`${user.name} was logged off from every client.`, 'ok');
        } catch (err) {
          status.set(`Could not log off ${user.name}: ${(err as Error).message}`, 'failed');
        }
      });
      logOff.focus();
    }

    return { tr, refresh };
  }

  const rows = users.map(row);
  tbody.append(...rows.map((r) => r.tr));
  const refreshAll = () => Promise.all(rows.map((r) => r.refresh()));
  await refreshAll();

  const refreshButton = button('Refresh', () => void busy(refreshButton, async () => {
    await refreshAll();
    status.set('Refreshed.');
  }), { className: 'secondary' });

  return h('div', {},
    h('div', { className: 'toolbar' },
      h('p', { className: 'hint' }, '"Log off" ends all of a user\'s tokens and sign-in sessions in every client.'),
      refreshButton),
    status.element,
    h('div', { className: 'table-wrap' },
      h('table', {},
        h('caption', { className: 'visually-hidden' }, 'Users with their presence, routing status and live tokens per client'),
        h('thead', {}, h('tr', {}, ...['User', 'Roles', 'Presence', 'Routing status', 'Live tokens', 'Action'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody)));
}
