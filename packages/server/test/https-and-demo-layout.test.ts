import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api } from './helpers/api.ts';
import { automationToken, formFields } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { makeTestCertificate, trustedFetch, type TestCertificate } from './helpers/tls.ts';

const authorizeQuery = (redirectUri: string) => new URLSearchParams({
  response_type: 'code', client_id: 'agent-desktop', redirect_uri: redirectUri, scope: 'openid',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's',
});

/** The Set-Cookie line of the sign-in session after posting the login form of `/oauth/authorize`. */
async function signInCookie(get: (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{ status: number; headers: Headers; text: string }>, issuer: string) {
  const url = `${issuer}/oauth/authorize?${authorizeQuery(`${issuer}/demo/callback`)}`;
  const form = await get(url);
  assert.equal(form.status, 200, form.text.slice(0, 200));
  const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('lockstep_csrf='))!.split(';')[0]!;
  const fields = { ...formFields(form.text), username: 'agent@demo.test', password: DEMO_PASSWORD };
  const posted = await get(`${issuer}/oauth/authorize`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie }, body: new URLSearchParams(fields).toString(),
  });
  assert.equal(posted.status, 303, posted.text.slice(0, 200));
  return posted.headers.getSetCookie().find((c) => c.startsWith('lockstep_session='))!;
}

const plainFetch = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
};

describe('HTTPS: LOCKSTEP_TLS_CERT / LOCKSTEP_TLS_KEY', () => {
  let cert: TestCertificate;
  let server: TestServer;
  let secure: ReturnType<typeof trustedFetch>;

  before(async () => {
    cert = makeTestCertificate(['login.lockstep.test']);
    server = await startTestServer({ env: { LOCKSTEP_TLS_CERT: cert.certPath, LOCKSTEP_TLS_KEY: cert.keyPath } });
    secure = trustedFetch(cert.cert);
  });
  after(async () => {
    await server?.stop();
    cert?.remove();
  });

  test('serves HTTPS, the issuer is https, and the sign-in cookie is SameSite=None; Secure', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const discovery = await secure(`${server.url}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    assert.equal(discovery.json().issuer, server.url);
    assert.equal(discovery.json().userinfo_endpoint, `${server.url}/oauth/userinfo`);
    const cookie = await signInCookie(secure, server.url);
    assert.match(cookie, /; Secure/i);
    assert.match(cookie, /; SameSite=None/i);
    assert.match(cookie, /; HttpOnly/i);
  });

  test('plain HTTP is refused on the HTTPS port; one TLS file without the other is a clear start error', async () => {
    await assert.rejects(fetch(server.url.replace('https:', 'http:') + '/healthz'));
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-config-'));
    try {
      await assert.rejects(startTestServer({ dataDir: dir, env: { LOCKSTEP_TLS_CERT: cert.certPath } }), /LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY go together/);
      await assert.rejects(startTestServer({ dataDir: dir, env: { LOCKSTEP_TLS_CERT: cert.certPath, LOCKSTEP_TLS_KEY: join(dir, 'missing.pem') } }), /LOCKSTEP_TLS_KEY .*missing\.pem cannot be read: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plain HTTP (local development)', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server?.stop());

  test('the sign-in cookie stays SameSite=Lax, without Secure', async () => {
    const cookie = await signInCookie(plainFetch, server.url);
    assert.match(cookie, /; SameSite=Lax/i);
    assert.doesNotMatch(cookie, /; Secure/i);
  });

  test('the password form cannot be framed by another site (an embedded client uses a popup)', async () => {
    const form = await plainFetch(`${server.url}/oauth/authorize?${authorizeQuery(`${server.url}/demo/callback`)}`);
    assert.equal(form.status, 200);
    assert.equal(form.headers.get('content-security-policy'), "frame-ancestors 'self'");
    assert.equal(form.headers.get('x-frame-options'), 'SAMEORIGIN');
  });
});

describe('demo layout: URIs follow the issuer, the CRM host on a second site', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-demo-layout-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const clientOf = async (server: TestServer, id: string) =>
    (await api(server.url)('GET', `/api/v2/oauth/clients/${id}`, await automationToken(server.url, DEMO_SECRET))).body;

  test('the seeded redirect, post-logout and back-channel URIs are under the issuer, and move with it at the next start', async () => {
    const first = await startTestServer({ dataDir });
    let receiverUri = '';
    try {
      const desktop = await clientOf(first, 'agent-desktop');
      assert.ok(desktop.redirectUris.includes(`${first.url}/demo/callback`), JSON.stringify(desktop.redirectUris));
      assert.deepEqual(desktop.postLogoutRedirectUris, [`${first.url}/demo/agent`]);
      assert.equal((await clientOf(first, 'crm-backend')).backchannelLogoutUri, `${first.url}/demo/crm-backend/backchannel-logout`);
      assert.ok(!JSON.stringify(await api(first.url)('GET', '/api/v2/oauth/clients', await automationToken(first.url, DEMO_SECRET))).includes(':8080'));
      // An admin points crm-backend elsewhere: that URI is the admin's, not the seed's, and stays.
      const backend = await clientOf(first, 'crm-backend');
      receiverUri = 'http://127.0.0.1:9/receiver/backchannel';
      const put = await api(first.url)('PUT', '/api/v2/oauth/clients/crm-backend', await automationToken(first.url, DEMO_SECRET), {
        name: backend.name, type: backend.type, redirectUris: backend.redirectUris, grantTypes: backend.grantTypes,
        postLogoutRedirectUris: backend.postLogoutRedirectUris, backchannelLogoutUri: receiverUri, roles: backend.roles,
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
    } finally {
      await first.close();
    }

    const second = await startTestServer({ dataDir });
    try {
      assert.notEqual(second.url, first.url, 'another ephemeral port');
      const desktop = await clientOf(second, 'agent-desktop');
      assert.ok(desktop.redirectUris.includes(`${second.url}/demo/callback`), JSON.stringify(desktop.redirectUris));
      assert.ok(!desktop.redirectUris.includes(`${first.url}/demo/callback`), 'the old issuer is gone');
      assert.ok(desktop.redirectUris.includes('http://127.0.0.1/callback'), 'the loopback redirect stays');
      assert.deepEqual((await clientOf(second, 'admin-console')).postLogoutRedirectUris, [`${second.url}/admin`]);
      assert.equal((await clientOf(second, 'crm-backend')).backchannelLogoutUri, receiverUri);
    } finally {
      await second.close();
    }
  });

  test('npm start serves the CRM host page on another site, embedding the widget of the issuer', async () => {
    const server = await startTestServer();
    try {
      assert.ok(server.crmUrl, 'the demo serves a CRM host');
      const crm = new URL(server.crmUrl);
      assert.equal(crm.hostname, 'localhost', '127.0.0.1 and localhost are different sites to a browser');
      const page = await (await fetch(server.crmUrl)).text();
      const config = JSON.parse(/window\.LOCKSTEP_CONFIG = (\{.*?\});/.exec(page)![1]!);
      assert.deepEqual(config, { issuer: server.url, widgetUrl: `${server.url}/demo/embedded` });
      const script = await fetch(new URL('/demo/crm.js', server.crmUrl));
      assert.equal(script.status, 200);
      assert.match(script.headers.get('content-type')!, /javascript/);
      assert.equal((await fetch(new URL('/oauth/authorize', server.crmUrl))).status, 404, 'no Lockstep route on the CRM site');
      const widget = await (await fetch(`${server.url}/demo/embedded`)).text();
      assert.equal(JSON.parse(/window\.LOCKSTEP_CONFIG = (\{.*?\});/.exec(widget)![1]!).crmOrigin, crm.origin, 'the widget accepts the CRM host');
    } finally {
      await server.stop();
    }
    const off = await startTestServer({ env: { LOCKSTEP_DEMO_CRM_PORT: 'off' } });
    try {
      assert.equal(off.crmUrl, null);
    } finally {
      await off.stop();
    }
  });
});
