import type { Api, AuditEntry, Page, User } from './api.ts';
import { busy, button, errorSlot, h, replaceChildren, statusSlot, uid } from './dom.ts';
import { formatInstant, localInputToIso } from './format.ts';

const KINDS: Record<string, string> = {
  login: 'Sign-in',
  login_failed: 'Failed sign-in',
  logout: 'Logout',
  universal_logout: 'Universal logout',
  idle_timeout: 'Idle timeout',
  admin_logoff: 'Admin log off',
  global_revocation: 'Global revocation',
  revocation: 'Token revocation',
  refresh_reuse: 'Refresh token reuse',
  settings_changed: 'Settings changed',
  backchannel_logout: 'Back-channel logout',
};

const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(', ') : '');

/** One line that says what an entry means; the raw details stay one click away. */
function summary(e: AuditEntry, userLabel: (id: string) => string): string {
  const d = e.details;
  const parts: string[] = [];
  const actor = d.actor as { userId?: string; clientId?: string } | undefined;
  if (actor?.userId) parts.push(`by ${userLabel(actor.userId)}`);
  else if (actor?.clientId) parts.push(`by client ${actor.clientId}`);
  if (list(d.clients)) parts.push(`clients: ${list(d.clients)}`);
  if (Array.isArray(d.backchannelLogouts) && d.backchannelLogouts.length) {
    parts.push(`back-channel: ${d.backchannelLogouts.map((b) => (b as { clientId: string }).clientId).join(', ')}`);
  }
  if (typeof d.setting === 'string') parts.push(`setting: ${d.setting}`);
  if (typeof d.ip === 'string') parts.push(`from ${d.ip}`);
  if (e.kind === 'backchannel_logout' && typeof d.outcome === 'string') {
    parts.push(`attempt ${String(d.attempt ?? 1)}: ${d.outcome}${d.statusCode ? ` (HTTP ${String(d.statusCode)})` : ''}${d.error ? `, ${String(d.error)}` : ''}`);
  }
  return parts.join('; ');
}

function field(label: string, control: HTMLInputElement | HTMLSelectElement) {
  control.id ||= uid('filter');
  return h('div', { className: 'field' }, h('label', { for: control.id }, label), control);
}

const PAGE_SIZE = 100;

function pageStatus(page: Page<AuditEntry>): string {
  if (page.pageCount <= 1) return `${page.total} entr${page.total === 1 ? 'y' : 'ies'}.`;
  const first = (page.pageNumber - 1) * page.pageSize + 1;
  return `Entries ${first}–${first + page.entities.length - 1} of ${page.total}, newest first.`;
}

/** The organization's audit log, newest first, filtered by user, kind and time range, a page at a time. */
export async function auditPage(api: Api): Promise<HTMLElement> {
  const users = await api.list<User>('/api/v2/users');
  const byId = new Map(users.map((u) => [u.id, u]));
  const userLabel = (id: string) => byId.get(id)?.email ?? id;

  const user = h('select', { name: 'userId' }, h('option', { value: '' }, 'Any user'),
    ...users.map((u) => h('option', { value: u.id }, `${u.name} (${u.email})`)));
  const kind = h('select', { name: 'kind' }, h('option', { value: '' }, 'Any kind'),
    ...Object.entries(KINDS).map(([k, label]) => h('option', { value: k }, label)));
  const from = h('input', { type: 'datetime-local', name: 'from' });
  const to = h('input', { type: 'datetime-local', name: 'to' });
  const apply = h('button', { type: 'submit' }, 'Apply filters');
  const error = errorSlot(uid('audit-error'));
  const status = statusSlot();
  const tbody = h('tbody', {});
  // The filters of the page shown: the pager keeps them even while the form is being changed.
  let applied = new URLSearchParams();
  let shown = 1;
  let pageCount = 1;
  const newer = button('Newer entries', () => void turnTo(shown - 1), { className: 'secondary' });
  const older = button('Older entries', () => void turnTo(shown + 1), { className: 'secondary' });
  const pager = h('nav', { className: 'actions', 'aria-label': 'Audit log pages' }, newer, older);
  const updatePager = () => {
    pager.hidden = pageCount <= 1;
    newer.disabled = shown <= 1;
    older.disabled = shown >= pageCount;
  };

  async function turnTo(pageNumber: number) {
    newer.disabled = older.disabled = true;
    await show(pageNumber);
    updatePager();
  }

  async function show(pageNumber: number) {
    error.set(null);
    const q = new URLSearchParams(applied);
    q.set('pageSize', String(PAGE_SIZE));
    q.set('pageNumber', String(pageNumber));
    try {
      const page = await api.get<Page<AuditEntry>>(`/api/v2/audits?${q}`);
      const entries = page.entities;
      replaceChildren(tbody, entries.length ? entries.map((e) => h('tr', { 'data-kind': e.kind },
        h('td', {}, h('time', { datetime: e.at }, formatInstant(e.at))),
        h('td', {}, KINDS[e.kind] ?? e.kind),
        h('td', {}, e.userId ? userLabel(e.userId) : '—'),
        h('td', { className: 'nowrap' }, e.clientId ?? '—'),
        h('td', {}, summary(e, userLabel),
          h('details', {}, h('summary', {}, 'Details'), h('pre', {}, JSON.stringify(e.details, null, 2)))))) :
        h('tr', {}, h('td', { colspan: 5, className: 'muted' }, 'No entries match these filters.')));
      shown = page.pageNumber;
      pageCount = page.pageCount;
      status.set(pageStatus(page));
      updatePager();
    } catch (err) {
      error.set((err as Error).message);
    }
  }

  async function load() {
    error.set(null);
    const fromIso = localInputToIso(from.value);
    const toIso = localInputToIso(to.value, { endOfMinute: true });
    if (fromIso && toIso && fromIso > toIso) {
      error.set('"From" must be before "To".');
      return;
    }
    applied = new URLSearchParams();
    if (user.value) applied.set('userId', user.value);
    if (kind.value) applied.set('kind', kind.value);
    if (fromIso) applied.set('from', fromIso);
    if (toIso) applied.set('to', toIso);
    await show(1);
  }

  const form = h('form', { className: 'filters', 'aria-label': 'Audit log filters' },
    field('User', user), field('Kind', kind), field('From', from), field('To', to),
    h('div', { className: 'actions' }, apply));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(apply, load);
  });
  await load();

  return h('div', {},
    form, error.element, status.element,
    h('div', { className: 'table-wrap' },
      h('table', {},
        h('caption', { className: 'visually-hidden' }, 'Audit log entries, newest first'),
        h('thead', {}, h('tr', {}, ...['Time', 'Kind', 'User', 'Client', 'What happened'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody)),
    pager);
}
