import { ApiError, enc, type Api, type Client, type ClientBody } from './api.ts';
import { allowedOriginsEditor, anyPortTag } from './allowed-origins-editor.ts';
import { busy, errorSlot, h, replaceChildren, statusSlot, uid, type Child } from './dom.ts';
import { redirectOrigins } from './web-origins.ts';

const TYPE_LABELS: Record<Client['type'], string> = {
  public: 'Public (browser or native app, no secret)',
  confidential: 'Confidential (server side, with a secret)',
};

/** Applications: the org's OAuth clients and the browser origins each may call Lockstep from (CORS). */
export async function applicationsPage(api: Api): Promise<HTMLElement> {
  const clients = await api.list<Client>('/api/v2/oauth/clients');
  return h('div', {},
    h('p', { className: 'hint page-intro' },
      'A web page may call Lockstep for an application — discovery, the token endpoint, the API — only from an allowed origin: the origins of the application\'s redirect URIs, and the extra origins listed here. A saved change applies at once, without a restart.'),
    clients.length
      ? h('div', { className: 'cards' }, ...clients.map((c) => applicationCard(api, c)))
      : h('p', { className: 'muted' }, 'This organization has no applications yet.'));
}

/** The whole client as PUT takes it, with other allowed origins. */
function bodyOf(client: Client, allowedOrigins: string[]): ClientBody {
  const { name, type, redirectUris, grantTypes, postLogoutRedirectUris, backchannelLogoutUri, roles, loopbackAnyPort } = client;
  return {
    name, type, redirectUris, grantTypes, postLogoutRedirectUris, roles, allowedOrigins, loopbackAnyPort,
    ...(type === 'confidential' ? { backchannelLogoutUri } : {}),
  };
}

/**
 * The server's refusal in the console's words. An index into the list (`body/allowedOrigins/2 …`) names
 * the origin it points at; the server's facts (limits, values) are kept as they are.
 */
function humanizeClientError(message: string, sent: string[]): string {
  const short = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);
  return message
    .replace(/^body\/?/, '')
    .replace(/^allowedOrigins\/(\d+)/, (m, i: string) => (sent[Number(i)] != null ? `Allowed origin "${short(sent[Number(i)]!)}"` : m))
    .replace(/^allowedOrigins entry/, 'Allowed origin')
    .replace(/\bmust NOT\b/g, 'must not')
    .replace(/^./, (c) => c.toUpperCase());
}

function originItem(origin: string, anyPort: boolean): HTMLElement {
  return h('li', {}, h('code', {}, origin), anyPort ? anyPortTag() : null);
}

function clientFacts(client: Client): HTMLElement {
  return h('dl', { className: 'facts' },
    h('dt', {}, 'Client ID'), h('dd', {}, h('code', {}, client.id)),
    h('dt', {}, 'Type'), h('dd', {}, TYPE_LABELS[client.type] ?? client.type),
    h('dt', {}, 'Redirect URIs'), h('dd', {}, client.redirectUris.length
      ? h('ul', { className: 'uri-list' }, ...client.redirectUris.map((u) => h('li', {}, h('code', {}, u))))
      : h('span', { className: 'muted' }, 'None')));
}

/** The origins the redirect URIs allow: shown, not edited here. */
function originsFromRedirects(client: Client): Child[] {
  const derived = redirectOrigins(client.redirectUris);
  const labelId = uid('derived-label');
  return [
    h('span', { id: labelId, className: 'label' }, 'From redirect URIs'), ' ',
    h('span', { className: 'muted small' }, '(read-only: they follow the redirect URIs)'),
    derived.length
      ? h('ul', { className: 'origin-list', 'aria-labelledby': labelId }, ...derived.map((o) => originItem(o.origin, o.anyPort)))
      : h('p', { className: 'muted' }, 'None: this application has no web redirect URIs.'),
  ];
}

function applicationCard(api: Api, client: Client): HTMLElement {
  const headingId = uid('app');
  const status = statusSlot();
  const editor = allowedOriginsEditor(client.allowedOrigins, status);
  const formError = errorSlot(uid('app-error'));
  const factList = h('div', {}, clientFacts(client));
  const derived = h('div', { className: 'field derived-origins' }, originsFromRedirects(client));
  const save = h('button', { type: 'submit', 'aria-label': `Save allowed origins of ${client.name}` }, 'Save allowed origins');

  const form = h('form', { novalidate: true },
    h('fieldset', { className: 'subsection' },
      h('legend', {}, 'Allowed web origins'),
      derived, editor.element),
    formError.element,
    h('div', { className: 'actions' }, save, status.element));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    editor.error.set(null);
    formError.set(null);
    status.set(null);
    const read = editor.read();
    if ('problem' in read) return status.set('Not saved.', 'failed');
    void busy(save, async () => {
      try {
        // The rest of the body as the server has it now, so a change made elsewhere since this page loaded is kept.
        const fresh = await api.get<Client>(`/api/v2/oauth/clients/${enc(client.id)}`);
        const saved = await api.send<Client>('PUT', `/api/v2/oauth/clients/${enc(client.id)}`, bodyOf(fresh, read.origins));
        editor.reset(saved.allowedOrigins);
        replaceChildren(factList, clientFacts(saved));
        replaceChildren(derived, originsFromRedirects(saved));
        const n = saved.allowedOrigins.length;
        status.set(n ? `Saved: ${n} extra allowed origin${n === 1 ? '' : 's'}.` : 'Saved: no extra allowed origins.', 'ok');
      } catch (err) {
        if (err instanceof ApiError && /allowedOrigins/.test(err.message)) {
          editor.error.set(humanizeClientError(err.message, read.origins));
          editor.input.focus();
        } else {
          formError.set(err instanceof ApiError ? humanizeClientError(err.message, read.origins) : 'The server could not be reached. Nothing was saved.');
        }
        status.set('Not saved.', 'failed');
      }
    });
  });

  return h('section', { className: 'card application', 'aria-labelledby': headingId, 'data-client': client.id },
    h('h2', { id: headingId }, client.name),
    factList,
    form);
}
