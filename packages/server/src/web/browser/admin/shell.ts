import type { Api } from './api.ts';
import { applicationsPage } from './applications-page.ts';
import { auditPage } from './audit-page.ts';
import { authenticationTab } from './authentication-tab.ts';
import { h, replaceChildren } from './dom.ts';
import { usersPage } from './users-page.ts';

export type Route = 'authentication' | 'users' | 'applications' | 'audit';

const ROUTES: Record<Route, { hash: string; title: string; nav: string; page: (api: Api) => Promise<HTMLElement> }> = {
  authentication: { hash: '#/settings/authentication', title: 'Organization Settings', nav: 'Organization Settings', page: authenticationTab },
  users: { hash: '#/users', title: 'Users', nav: 'Users', page: usersPage },
  applications: { hash: '#/applications', title: 'Applications', nav: 'Applications', page: applicationsPage },
  audit: { hash: '#/audit', title: 'Audit log', nav: 'Audit log', page: auditPage },
};

export function routeOf(hash: string): Route {
  const found = (Object.keys(ROUTES) as Route[]).find((r) => ROUTES[r].hash === hash || (r === 'authentication' && hash === '#/settings'));
  return found ?? 'authentication';
}

export interface Shell {
  show(route: Route, moveFocus?: boolean): Promise<void>;
  destroy(): void;
}

/** The signed-in frame: a header with navigation and the user, and the page for the current hash route. */
export function shell(root: HTMLElement, opts: { api: Api; user: { name: string; email: string } | null; signOut: () => void }): Shell {
  const links = (Object.keys(ROUTES) as Route[]).map((r) => h('a', { href: ROUTES[r].hash, 'data-route': r }, ROUTES[r].nav));
  const header = h('header', { className: 'top' },
    h('a', { href: '#app', className: 'skip-link', onclick: (e: Event) => {
      e.preventDefault();
      root.querySelector<HTMLElement>('h1')?.focus();
    } }, 'Skip to content'),
    h('span', { className: 'brand' }, 'Lockstep Admin'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, ...links.map((a) => h('li', {}, a)))),
    h('div', { className: 'who' },
      opts.user ? h('span', { title: opts.user.email }, opts.user.name) : null,
      h('button', { type: 'button', className: 'secondary small', onclick: opts.signOut }, 'Sign out')));
  document.body.prepend(header);
  let generation = 0;

  async function show(route: Route, moveFocus = true) {
    const mine = ++generation;
    const meta = ROUTES[route];
    document.title = `${meta.title} · Lockstep Admin`;
    for (const a of links) {
      if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const heading = h('h1', { tabindex: -1 }, meta.title);
    const body = h('div', { className: 'page-body', 'aria-busy': 'true' }, h('p', { className: 'muted' }, 'Loading…'));
    const tabs = route === 'authentication'
      ? h('nav', { className: 'tabs', 'aria-label': 'Organization Settings sections' },
        h('a', { href: ROUTES.authentication.hash, 'aria-current': 'page' }, 'Authentication'))
      : null;
    replaceChildren(root, heading, tabs, body);
    if (moveFocus) heading.focus();
    try {
      const page = await meta.page(opts.api);
      if (mine !== generation) return;
      replaceChildren(body, page);
    } catch (err) {
      if (mine !== generation) return;
      replaceChildren(body, h('p', { className: 'field-error', role: 'alert' }, `Could not load this page: ${(err as Error).message}`));
    } finally {
      body.removeAttribute('aria-busy');
    }
  }

  const onHash = () => void show(routeOf(location.hash));
  window.addEventListener('hashchange', onHash);
  return {
    show,
    destroy() {
      window.removeEventListener('hashchange', onHash);
      header.remove();
    },
  };
}
