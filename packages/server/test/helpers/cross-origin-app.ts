import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Page as PlaywrightPage } from 'playwright-core';
import { html, js, startOriginServer, type OriginServer, type Page } from './origin-server.ts';

/** oidc-client-ts bundled for the browser as one IIFE script: `window.oidc.UserManager` etc. */
export async function oidcClientBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: "export * from 'oidc-client-ts';", resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'js' },
    bundle: true, format: 'iife', globalName: 'oidc', platform: 'browser', target: 'chrome110', write: false, logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** What the app page hands oidc-client-ts (a UserManager per page load; the user lives in localStorage). */
export interface AppSettings {
  authority: string;
  client_id: string;
  redirect_uri: string;
  post_logout_redirect_uri: string;
  scope: string;
  loadUserInfo: boolean;
}

/**
 * A relying party on an origin of its own, written the way an integrator writes one with
 * oidc-client-ts: `/` creates `window.mgr`; `/callback` runs signinRedirectCallback, `/signed-out`
 * signoutRedirectCallback; the outcome lands in `document.body.dataset.state`
 * (`signed-in` / `signed-out` / `error`) with `window.result` or `window.failure`.
 * `window.call(url, token)` makes a bearer request and answers what the page can read of it.
 * `/blank` is a page of the origin with the library loaded and nothing else.
 */
export async function startOidcApp(opts: { hostName: string; bundle: string; settings: () => AppSettings | null }): Promise<OriginServer> {
  const page = (path: string): Page | null => {
    if (path === '/oidc.js') return js(opts.bundle);
    if (path === '/blank') return html('<!doctype html><meta charset="utf-8"><title>blank</title><script src="/oidc.js"></script><body>blank</body>');
    const settings = opts.settings();
    if (!settings || !['/', '/callback', '/signed-out'].includes(path)) return null;
    return html(`<!doctype html><meta charset="utf-8"><title>oidc-client-ts app</title>
<script src="/oidc.js"></script>
<body data-state="loaded"><h1>oidc-client-ts app on <span id="origin"></span></h1><pre id="out">${path}</pre>
<script>
  document.getElementById('origin').textContent = location.origin;
  const settings = ${JSON.stringify(settings)};
  window.mgr = new oidc.UserManager({ ...settings, response_type: 'code', automaticSilentRenew: false, monitorSession: false,
    userStore: new oidc.WebStorageStateStore({ store: window.localStorage }) });
  const view = (u) => u && { id_token: u.id_token, access_token: u.access_token, refresh_token: u.refresh_token ?? null, profile: u.profile };
  window.run = (state, promise) => promise.then((v) => {
    window.result = view(v) ?? null;
    const id = v && v.id_token ? JSON.parse(atob(v.id_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) : null;
    document.getElementById('out').textContent = state + (id ? '\\nID token: auth_time ' + id.auth_time + ' (' + new Date(id.auth_time * 1000).toISOString() + '), iat ' + id.iat + ' (' + new Date(id.iat * 1000).toISOString() + ')' : '')
      + '\\nprofile: ' + JSON.stringify(window.result?.profile ?? null, null, 2);
    document.body.dataset.state = state;
    return window.result;
  }, (e) => {
    window.failure = String(e && e.message || e);
    document.getElementById('out').textContent = 'error: ' + window.failure;
    document.body.dataset.state = 'error';
    throw e;
  });
  // A bearer call from this origin as an app makes it; what JavaScript can read of the answer (CORS-exposed headers).
  window.call = async (url, token, init = {}) => {
    const res = await fetch(url, { ...init, headers: { ...(token ? { authorization: 'Bearer ' + token } : {}), ...init.headers } });
    const text = await res.text();
    return { status: res.status, idle: res.headers.get('lockstep-idle-expires'), www: res.headers.get('www-authenticate'), body: text ? JSON.parse(text) : null };
  };
  if (location.pathname === '/callback') run('signed-in', mgr.signinRedirectCallback()).catch(() => {});
  if (location.pathname === '/signed-out') run('signed-out', mgr.signoutRedirectCallback()).catch(() => {});
</script>`);
  };
  return startOriginServer({ hostName: opts.hostName, pages: (path) => page(path) });
}

/** Waits until the app page reached a final state and answers it; an `error` state carries the library's message. */
export async function appState(page: PlaywrightPage, timeout = 20_000): Promise<{ state: string; failure?: string }> {
  await page.waitForFunction(() => ['signed-in', 'signed-out', 'error'].includes(document.body?.dataset.state ?? ''), undefined, { timeout });
  return page.evaluate(() => ({ state: document.body.dataset.state!, failure: (window as any).failure as string | undefined }));
}
