import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api } from './helpers/api.ts';
import { authorizeOutcome, automationToken, Browser, signIn } from './helpers/browser.ts';
import { isTokenRevoked, openChannel, type OpenChannel } from './helpers/channel.ts';
import { createOrg } from './helpers/cli.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { presenceDefinitionId } from '../src/core/presence-definitions.ts';

/**
 * Admin logoff (DELETE /api/v2/tokens/{userId}, DELETE /api/v2/apps/users/{userId}/logout) and Global
 * Token Revocation (POST /oauth/global-token-revocation) log the user out everywhere — every token,
 * every channel (token_revoked with the right reason, close 4001), the sign-in session, presence and
 * routing status — with an audit entry, whatever the universal-logout setting. Who may not do it gets
 * 401/403/404, and an admin or client of another org cannot do it (404, nothing happens).
 */

const REDIRECT = 'http://127.0.0.1:9/callback';
const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

interface SignedInAgent {
  browser: Browser;
  desktop: string;
  crm: string;
  desktopChannel: OpenChannel;
  crmChannel: OpenChannel;
}

async function gtr(url: string, authorization: string | null, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(url + '/oauth/global-token-revocation', { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

describe('admin logoff and global token revocation', () => {
  let server: TestServer;
  let call: ReturnType<typeof api>;
  let automation: string;
  let adminToken: string;
  let adminId: string;
  let agentId: string;
  let bystander: string;

  const head = async (token: string) => (await call('HEAD', '/api/v2/tokens/me', token)).status;
  const setUniversal = async (on: boolean) => {
    const r = await call('PATCH', '/api/v2/organizations/authentication/settings', adminToken, { universalLogout: on });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.universalLogout, on);
  };
  const auditsOf = async (kind: string, userId: string) => (await call('GET', `/api/v2/audits?kind=${kind}&userId=${userId}`, automation)).body.entities as any[];

  /** The agent on agent-desktop and crm-embedded (one browser, SSO), Available and IDLE, a channel open on each token. */
  async function signInAgent(): Promise<SignedInAgent> {
    const browser = new Browser();
    const desktop = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const crm = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    assert.equal((await call('PATCH', `/api/v2/users/${agentId}/presences/purecloud`, desktop, { presenceDefinition: { id: presenceDefinitionId('Available') } })).status, 200);
    assert.equal((await call('PUT', `/api/v2/users/${agentId}/routingstatus`, crm, { status: 'IDLE' })).status, 200);
    const desktopChannel = await openChannel(server.url, desktop);
    const crmChannel = await openChannel(server.url, crm);
    assert.equal(await head(desktop), 200);
    assert.equal(await head(crm), 200);
    return { browser, desktop, crm, desktopChannel, crmChannel };
  }

  /** Everything of the agent ended, with `reason` on every channel and one new audit entry of `kind`. */
  async function assertLoggedOffEverywhere(s: SignedInAgent, expected: { reason: string; initiatingClientId: string; auditsBefore: number; actor: Record<string, unknown> }) {
    assert.equal(await head(s.desktop), 401, 'the agent-desktop token is refused');
    assert.equal(await head(s.crm), 401, 'the crm-embedded token is refused');
    const me = await call('GET', '/api/v2/tokens/me', s.crm);
    assert.equal(me.status, 401);
    assert.match(me.headers.get('www-authenticate') ?? '', /invalid_token/);

    for (const channel of [s.desktopChannel, s.crmChannel]) {
      const event = await channel.next(isTokenRevoked, 2000);
      assert.equal(event.eventBody.reason, expected.reason);
      assert.equal(event.eventBody.initiatingClientId, expected.initiatingClientId);
      assert.ok(!Number.isNaN(Date.parse(event.eventBody.at)));
      assert.equal((await channel.closed).code, 4001, 'closed with the do-not-reconnect code');
      assert.equal(channel.messages.filter(isTokenRevoked).length, 1, 'told once');
    }

    assert.equal(await authorizeOutcome(server.url, s.browser, 'agent-desktop'), 'login_form', 'the sign-in session is gone');
    assert.equal(await authorizeOutcome(server.url, s.browser, 'crm-embedded'), 'login_form');

    const presence = await call('GET', `/api/v2/users/${agentId}/presences/purecloud`, automation);
    assert.equal(presence.body.presenceDefinition.systemPresence, 'Offline');
    const routing = await call('GET', `/api/v2/users/${agentId}/routingstatus`, automation);
    assert.equal(routing.body.status, 'OFF_QUEUE');

    const kind = expected.reason;
    const audits = await auditsOf(kind, agentId);
    assert.equal(audits.length, expected.auditsBefore + 1, `one new ${kind} audit entry`);
    const entry = audits[0];
    assert.equal(entry.kind, kind);
    assert.equal(entry.userId, agentId);
    assert.equal(entry.clientId, expected.initiatingClientId);
    assert.deepEqual(entry.details.actor, expected.actor);
    assert.deepEqual([...entry.details.clients].sort(), ['agent-desktop', 'crm-embedded']);
    assert.equal(entry.details.accessTokenIds.length, 2);
    assert.ok(entry.details.signInSessionIds.length >= 1, 'the ended sign-in session is named');

    // Nobody else was touched: the admin (a token of agent-desktop too), agent2, the automation client.
    assert.equal(await head(adminToken), 200);
    assert.equal(await head(bystander), 200);
    assert.equal(await head(automation), 200);
  }

  before(async () => {
    server = await startTestServer();
    call = api(server.url);
    automation = await automationToken(server.url, DEMO_SECRET);
    adminToken = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, { username: 'admin@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
    adminId = (await call('GET', '/api/v2/tokens/me', adminToken)).body.user.id;
    const users = (await call('GET', '/api/v2/users', automation)).body.entities as { id: string; email: string }[];
    agentId = users.find((u) => u.email === 'agent@demo.test')!.id;
    bystander = (await signIn(server.url, new Browser(), { clientId: 'crm-embedded' }, { username: 'agent2@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
  });
  after(() => server.stop());

  for (const universal of [false, true]) {
    describe(`with universal logout ${universal ? 'on' : 'off'}`, () => {
      before(() => setUniversal(universal));

      test('DELETE /api/v2/tokens/{userId} by an admin user logs the agent out everywhere (reason admin_logoff)', async () => {
        const s = await signInAgent();
        assert.equal(await authorizeOutcome(server.url, s.browser, 'agent-desktop'), 'code', 'control: the sign-in session is live before');
        const auditsBefore = (await auditsOf('admin_logoff', agentId)).length;
        const res = await call('DELETE', `/api/v2/tokens/${agentId}`, adminToken);
        assert.equal(res.status, 204, JSON.stringify(res.body));
        await assertLoggedOffEverywhere(s, { reason: 'admin_logoff', initiatingClientId: 'agent-desktop', auditsBefore, actor: { userId: adminId, clientId: 'agent-desktop' } });
      });

      test('DELETE /api/v2/apps/users/{userId}/logout by the automation client does the same', async () => {
        const s = await signInAgent();
        const auditsBefore = (await auditsOf('admin_logoff', agentId)).length;
        const res = await call('DELETE', `/api/v2/apps/users/${agentId}/logout`, automation);
        assert.equal(res.status, 204, JSON.stringify(res.body));
        await assertLoggedOffEverywhere(s, { reason: 'admin_logoff', initiatingClientId: 'automation', auditsBefore, actor: { userId: null, clientId: 'automation' } });
      });

      for (const format of ['email', 'opaque', 'iss_sub'] as const) {
        test(`global token revocation, sub_id format ${format}: 204 and the agent is logged out everywhere (reason global_revocation)`, async () => {
          const s = await signInAgent();
          const auditsBefore = (await auditsOf('global_revocation', agentId)).length;
          const subId = format === 'email' ? { format, email: 'agent@demo.test' }
            : format === 'opaque' ? { format, id: agentId }
            : { format, iss: server.url, sub: agentId };
          const res = await gtr(server.url, basic('automation', DEMO_SECRET), { sub_id: subId });
          assert.equal(res.status, 204, res.text);
          assert.equal(res.text, '');
          await assertLoggedOffEverywhere(s, { reason: 'global_revocation', initiatingClientId: 'automation', auditsBefore, actor: { clientId: 'automation' } });
        });
      }
    });
  }

  test('global token revocation refuses: unknown subject 404, bad input 400, no admin role 403, public client or wrong secret 401', async () => {
    await setUniversal(false);
    const s = await signInAgent();
    const automationAuth = basic('automation', DEMO_SECRET);

    // Unknown subjects, in every format: 404, and the same answer for each (no oracle).
    const unknown = await gtr(server.url, automationAuth, { sub_id: { format: 'email', email: 'nobody@demo.test' } });
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(typeof unknown.body.error, 'string');
    for (const sub_id of [
      { format: 'opaque', id: 'no-such-user' },
      { format: 'iss_sub', iss: server.url, sub: 'no-such-user' },
      { format: 'iss_sub', iss: 'https://other-issuer.example', sub: agentId },
    ]) {
      const r = await gtr(server.url, automationAuth, { sub_id });
      assert.equal(r.status, 404, `${JSON.stringify(sub_id)}: ${r.text}`);
      assert.deepEqual(r.body, unknown.body);
    }
    for (const body of [{}, { sub_id: { format: 'phone_number', phone_number: '+15555550100' } }, { sub_id: { format: 'email' } }]) {
      const r = await gtr(server.url, automationAuth, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }

    // A confidential client of the org without the admin role: 403.
    const created = await call('POST', '/api/v2/oauth/clients', automation, {
      name: 'Reporting', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'], roles: [],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const noAdmin = await gtr(server.url, basic(created.body.id, created.body.secret), { sub_id: { format: 'email', email: 'agent@demo.test' } });
    assert.equal(noAdmin.status, 403, noAdmin.text);
    assert.equal(noAdmin.body.error, 'access_denied');

    // Not an authenticated confidential client: 401.
    const email = { format: 'email', email: 'agent@demo.test' };
    for (const [what, authorization, extra] of [
      ['a public client (Basic, no secret)', basic('agent-desktop', ''), {}],
      ['a public client (client_id in the body)', null, { client_id: 'agent-desktop' }],
      ['a wrong secret', basic('automation', 'not-the-secret'), {}],
      ['a wrong secret in the body', null, { client_id: 'automation', client_secret: 'not-the-secret' }],
      ['no client authentication', null, {}],
      ['an unknown client', basic('no-such-client', 'x'), {}],
    ] as const) {
      const r = await gtr(server.url, authorization, { ...extra, sub_id: email });
      assert.equal(r.status, 401, `${what}: ${r.text}`);
      assert.equal(r.body.error, 'invalid_client', what);
    }

    // None of that touched the agent.
    await sleep(200);
    assert.equal(await head(s.desktop), 200);
    assert.equal(await head(s.crm), 200);
    for (const channel of [s.desktopChannel, s.crmChannel]) {
      assert.equal(channel.messages.filter(isTokenRevoked).length, 0);
      assert.equal(channel.ws.readyState, channel.ws.OPEN);
    }
    assert.equal(await authorizeOutcome(server.url, s.browser, 'agent-desktop'), 'code');
    const logoff = await call('DELETE', `/api/v2/tokens/${agentId}`, automation);
    assert.equal(logoff.status, 204);
    await s.crmChannel.closed;
  });

  test('admin logoff: not for a non-admin (403), not for an unknown user (404)', async () => {
    const s = await signInAgent();
    const agent2Id = (await call('GET', '/api/v2/tokens/me', bystander)).body.user.id;
    for (const path of [`/api/v2/tokens/${agent2Id}`, `/api/v2/apps/users/${agent2Id}/logout`]) {
      const r = await call('DELETE', path, s.desktop);
      assert.equal(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'missing.permission');
    }
    for (const path of ['/api/v2/tokens/no-such-user', '/api/v2/apps/users/no-such-user/logout']) {
      const r = await call('DELETE', path, automation);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'not.found');
    }
    assert.equal(await head(bystander), 200);
    assert.equal(await head(s.desktop), 200);
    assert.equal(s.crmChannel.messages.filter(isTokenRevoked).length, 0);
    assert.equal((await call('DELETE', `/api/v2/tokens/${agentId}`, automation)).status, 204);
    await s.crmChannel.closed;
  });

  test('the metadata advertises the global token revocation endpoint', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const m = (await (await fetch(server.url + path)).json()) as Record<string, unknown>;
      assert.equal(m.global_token_revocation_endpoint, `${server.url}/oauth/global-token-revocation`, path);
      assert.ok(Array.isArray(m.global_token_revocation_endpoint_auth_methods_supported));
      assert.ok((m.global_token_revocation_endpoint_auth_methods_supported as string[]).includes('client_secret_basic'));
    }
  });

  describe('across organizations', () => {
    const OTHER_APP = 'other-org-app';
    let bOrgId: string;
    let bAdmin: string;
    let bAdminId: string;
    let bAutomation: string;
    let bClient: { id: string; secret: string };
    let bAdminChannel: OpenChannel;

    before(async () => {
      // Org B, created with the real CLI against the running server's data directory, as in org-isolation.test.ts.
      const { orgId, password } = await createOrg({ dataDir: server.dataDir, name: 'Other', adminEmail: 'admin@other.test' });
      bOrgId = orgId;
      await server.authority.store.createClient({
        id: OTHER_APP, orgId, name: 'Other App', type: 'public', secretHash: null, redirectUris: ['http://127.0.0.1/callback'],
        grantTypes: ['authorization_code'], postLogoutRedirectUris: [], backchannelLogoutUri: null, allowedOrigins: [], roles: [], loopbackAnyPort: true, createdAt: Date.now(),
      });
      bAdmin = (await signIn(server.url, new Browser(), { clientId: OTHER_APP, redirectUri: REDIRECT }, { username: 'admin@other.test', password })).tokens.access_token;
      const me = await call('GET', '/api/v2/tokens/me', bAdmin);
      assert.equal(me.body.organization.id, bOrgId);
      bAdminId = me.body.user.id;
      const created = await call('POST', '/api/v2/oauth/clients', bAdmin, {
        name: 'Other IdP', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'], roles: ['admin'],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      bClient = { id: created.body.id, secret: created.body.secret };
      const cc = await fetch(`${server.url}/oauth/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(bClient.id, bClient.secret) },
        body: 'grant_type=client_credentials',
      });
      assert.equal(cc.status, 200);
      bAutomation = ((await cc.json()) as { access_token: string }).access_token;
      bAdminChannel = await openChannel(server.url, bAdmin);
    });

    test("org B's admin and admin client get 404 logging off org A's agent, and nothing happens to the agent", async () => {
      await setUniversal(true);
      const s = await signInAgent();
      const before = { admin: (await auditsOf('admin_logoff', agentId)).length, global: (await auditsOf('global_revocation', agentId)).length };
      for (const token of [bAdmin, bAutomation]) {
        for (const path of [`/api/v2/tokens/${agentId}`, `/api/v2/apps/users/${agentId}/logout`]) {
          const r = await call('DELETE', path, token);
          assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.code, 'not.found');
          assert.ok(!JSON.stringify(r.body).includes('agent@demo.test'));
        }
      }
      // Org B's IdP client naming org A's agent, in every format: 404, the same answer as for nobody.
      const nobody = await gtr(server.url, basic(bClient.id, bClient.secret), { sub_id: { format: 'email', email: 'nobody@other.test' } });
      assert.equal(nobody.status, 404);
      for (const sub_id of [{ format: 'email', email: 'agent@demo.test' }, { format: 'opaque', id: agentId }, { format: 'iss_sub', iss: server.url, sub: agentId }]) {
        const r = await gtr(server.url, basic(bClient.id, bClient.secret), { sub_id });
        assert.equal(r.status, 404, `${JSON.stringify(sub_id)}: ${r.text}`);
        assert.deepEqual(r.body, nobody.body);
      }

      await sleep(300);
      for (const channel of [s.desktopChannel, s.crmChannel]) {
        assert.deepEqual(channel.messages, [], "the agent's channel received nothing");
        assert.equal(channel.ws.readyState, channel.ws.OPEN);
      }
      assert.equal(await head(s.desktop), 200);
      assert.equal(await head(s.crm), 200);
      assert.equal(await authorizeOutcome(server.url, s.browser, 'crm-embedded'), 'code', 'the sign-in session stays');
      assert.equal((await call('GET', `/api/v2/users/${agentId}/presences/purecloud`, automation)).body.presenceDefinition.systemPresence, 'Available');
      assert.equal((await call('GET', `/api/v2/users/${agentId}/routingstatus`, automation)).body.status, 'IDLE');
      assert.equal((await auditsOf('admin_logoff', agentId)).length, before.admin);
      assert.equal((await auditsOf('global_revocation', agentId)).length, before.global);

      // Control: org A's own admin can.
      assert.equal((await call('DELETE', `/api/v2/tokens/${agentId}`, adminToken)).status, 204);
      assert.equal((await s.crmChannel.next(isTokenRevoked)).eventBody.reason, 'admin_logoff');
    });

    test("org A's client naming an org-B user gets 404 and the org-B user stays signed in", async () => {
      const nobody = await gtr(server.url, basic('automation', DEMO_SECRET), { sub_id: { format: 'email', email: 'nobody@demo.test' } });
      for (const sub_id of [{ format: 'email', email: 'admin@other.test' }, { format: 'opaque', id: bAdminId }, { format: 'iss_sub', iss: server.url, sub: bAdminId }]) {
        const r = await gtr(server.url, basic('automation', DEMO_SECRET), { sub_id });
        assert.equal(r.status, 404, `${JSON.stringify(sub_id)}: ${r.text}`);
        assert.deepEqual(r.body, nobody.body, 'the same answer as for nobody');
      }
      for (const path of [`/api/v2/tokens/${bAdminId}`, `/api/v2/apps/users/${bAdminId}/logout`]) {
        assert.equal((await call('DELETE', path, automation)).status, 404, path);
        assert.equal((await call('DELETE', path, adminToken)).status, 404, path);
      }
      await sleep(300);
      assert.equal(await head(bAdmin), 200);
      assert.equal(bAdminChannel.messages.filter(isTokenRevoked).length, 0);
      assert.equal(bAdminChannel.ws.readyState, bAdminChannel.ws.OPEN);

      // Control: org B's own IdP client can, and the org-B admin's channel hears why.
      const own = await gtr(server.url, basic(bClient.id, bClient.secret), { sub_id: { format: 'email', email: 'admin@other.test' } });
      assert.equal(own.status, 204, own.text);
      const event = await bAdminChannel.next(isTokenRevoked);
      assert.equal(event.eventBody.reason, 'global_revocation');
      assert.equal(event.eventBody.initiatingClientId, bClient.id);
      assert.equal((await bAdminChannel.closed).code, 4001);
      assert.equal(await head(bAdmin), 401);
      assert.equal(await head(adminToken), 200, "org A's admin is untouched");
    });
  });
});
