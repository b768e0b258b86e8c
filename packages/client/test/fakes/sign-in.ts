import type { Browser, Tab } from './env.ts';
import { ISSUER } from './server.ts';

const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** An unsigned ID token with these claims (the SDK only reads its nonce). */
export const fakeIdToken = (claims: Record<string, unknown>) => `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims))}.sig`;

/**
 * POST /oauth/token answers a fresh token (known to the fake server) with the nonce of the authorize URL;
 * answers the forms it received.
 */
export function tokenEndpoint(browser: Browser, accessToken = 'fresh'): { forms: URLSearchParams[]; nonce: { value: string | null } } {
  const forms: URLSearchParams[] = [];
  const nonce = { value: null as string | null };
  browser.server.routes.set('POST /oauth/token', (r) => {
    const form = new URLSearchParams(r.body!);
    forms.push(form);
    browser.server.issue(accessToken);
    const body = { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, id_token: fakeIdToken({ nonce: nonce.value }) };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return { forms, nonce };
}

/** The redirect page's message, as the window `source` posts it to `origin`. */
export function postAnswer(tab: Tab, source: unknown, data: Record<string, unknown>, origin = new URL(tab.location.href).origin): void {
  tab.window.dispatch('message', { origin, source, data: { type: 'lockstep:authorization-response', iss: ISSUER, ...data } });
}

/** A signed-out tab (start() has looked for a session and found none). */
export async function signedOutTab(browser: Browser, overrides: Parameters<Browser['tab']>[0] = {}): Promise<Tab> {
  const tab = browser.tab({ href: 'https://app.test/widget', ...overrides });
  const started = tab.lockstep.start();
  await browser.clock.advance(300);
  if ((await started) !== 'signed_out') throw new Error('expected signed_out');
  return tab;
}
