import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorizeRequest, bearer, Browser, formFields, signIn } from './helpers/browser.ts';
import { createOrg } from './helpers/cli.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { presenceDefinitionId } from '../src/core/presence-definitions.ts';

/**
 * Org isolation: with two orgs on one server, every admin route refuses access to the other org's
 * users, groups, clients, audit log and tokens (404, or 403 for a non-admin), changes nothing
 * there, and lists show only the caller's own org.
 */

const REDIRECT = 'http://127.0.0.1:9/callback';
const OTHER_APP = 'other-org-app';

interface Org {
  id: string;
  /** An admin user's token. */
  admin: string;
  /** A client-credentials token of an admin-role client. */
  automation: string;
  adminId: string;
  /** A non-admin user of the org, signed in, with a refresh token. */
  user: { id: string; email: string; access: string; refresh: string };
  groupId: string;
  /** The org's OAuth clients, by id. */
  clientIds: string[];
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

async function call(url: string, token: string, c: Call): Promise<Response> {
  const headers: Record<string, string> = bearer(token);
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(url + c.path, { method: c.method, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body) });
}

async function json<T = any>(url: string, token: string, path: string): Promise<T> {
  const res = await fetch(url + path, { headers: bearer(token) });
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

async function clientCredentials(url: string, clientId: string, secret: string): Promise<string> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

async function introspect(url: string, clientId: string, secret: string, token: string) {
  const res = await fetch(`${url}/oauth/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

const isLive = async (url: string, token: string) => (await fetch(`${url}/api/v2/tokens/me`, { method: 'HEAD', headers: bearer(token) })).status;

/** Every admin route, aimed at one org's entities. */
function adminCallsOn(o: Org): Call[] {
  const client = o.clientIds[0]!;
  return [
    { method: 'GET', path: `/api/v2/users/${o.user.id}` },
    { method: 'GET', path: `/api/v2/users/${o.adminId}` },
    { method: 'PATCH', path: `/api/v2/users/${o.user.id}`, body: { name: 'Hijacked', roles: ['admin'] } },
    { method: 'PATCH', path: `/api/v2/users/${o.user.id}`, body: { password: 'taken-over-password' } },
    { method: 'DELETE', path: `/api/v2/users/${o.user.id}` },
    { method: 'DELETE', path: `/api/v2/users/${o.adminId}` },
    { method: 'GET', path: `/api/v2/groups/${o.groupId}` },
    { method: 'PATCH', path: `/api/v2/groups/${o.groupId}`, body: { name: 'Hijacked', memberIds: [] } },
    { method: 'PUT', path: `/api/v2/groups/${o.groupId}`, body: { name: 'Hijacked' } },
    { method: 'GET', path: `/api/v2/groups/${o.groupId}/members` },
    { method: 'POST', path: `/api/v2/groups/${o.groupId}/members`, body: { memberIds: [o.adminId] } },
    { method: 'DELETE', path: `/api/v2/groups/${o.groupId}/members?ids=${o.user.id}` },
    { method: 'DELETE', path: `/api/v2/groups/${o.groupId}` },
    { method: 'GET', path: `/api/v2/oauth/clients/${client}` },
    { method: 'PUT', path: `/api/v2/oauth/clients/${client}`, body: { name: 'Hijacked', type: 'public', redirectUris: ['https://evil.example/cb'], grantTypes: ['authorization_code'] } },
    { method: 'DELETE', path: `/api/v2/oauth/clients/${client}` },
    ...o.clientIds.slice(1).map((id) => ({ method: 'DELETE', path: `/api/v2/oauth/clients/${id}` })),
    { method: 'DELETE', path: `/api/v2/tokens/${o.user.id}` },
    { method: 'DELETE', path: `/api/v2/tokens/${o.adminId}` },
  ];
}

/** The presence, routing-status and interaction routes (not admin-only, but org-scoped), aimed at one org's user. */
function userStatusCallsOn(o: Org): Call[] {
  return [
    { method: 'GET', path: `/api/v2/users/${o.user.id}/presences/purecloud` },
    { method: 'PATCH', path: `/api/v2/users/${o.user.id}/presences/purecloud`, body: { presenceDefinition: { id: presenceDefinitionId('Busy') } } },
    { method: 'GET', path: `/api/v2/users/${o.user.id}/routingstatus` },
    { method: 'PUT', path: `/api/v2/users/${o.user.id}/routingstatus`, body: { status: 'NOT_RESPONDING' } },
    { method: 'PUT', path: `/api/v2/users/${o.user.id}/interactions/call-from-the-other-org`, body: { type: 'voice', state: 'connected' } },
  ];
}

/** What an org's admin sees of its own org: compared before and after the other org's attempts. */
async function snapshot(url: string, o: Org) {
  return {
    users: await json(url, o.automation, '/api/v2/users'),
    groups: await json(url, o.automation, '/api/v2/groups'),
    clients: await json(url, o.automation, '/api/v2/oauth/clients'),
    user: await json(url, o.automation, `/api/v2/users/${o.user.id}`),
    group: await json(url, o.automation, `/api/v2/groups/${o.groupId}`),
    presence: await json(url, o.automation, `/api/v2/users/${o.user.id}/presences/purecloud`),
    routing: await json(url, o.automation, `/api/v2/users/${o.user.id}/routingstatus`),
    timeout: await json(url, o.automation, '/api/v2/tokens/timeout'),
  };
}

async function assertRefused(url: string, token: string, c: Call, statuses: number[], secrets: string[]) {
  const res = await call(url, token, c);
  const text = await res.text();
  const where = `${c.method} ${c.path}: ${res.status} ${text.slice(0, 200)}`;
  assert.ok(statuses.includes(res.status), where);
  const body = JSON.parse(text);
  assert.equal(body.status, res.status, where);
  assert.ok(typeof body.message === 'string' && body.message.length > 0, where);
  for (const s of secrets) assert.ok(!text.includes(s), `the refusal must not reveal ${s}: ${where}`);
}

describe('org isolation: two orgs on one server', () => {
  let server: TestServer;
  let url: string;
  let A: Org;
  let B: Org;
  let bConfidential: { id: string; secret: string };
  let bAdminEmail: string;
  let bAdminPassword: string;

  before(async () => {
    server = await startTestServer();
    url = server.url;

    // Org B, created with the real CLI against the running server's data directory (SQLite WAL: a second process may write).
    bAdminEmail = 'admin@other.test';
    const { orgId, password } = await createOrg({ dataDir: server.dataDir, name: 'Other', adminEmail: bAdminEmail });
    assert.notEqual(orgId, 'demo');
    bAdminPassword = password;

    // Org B has no OAuth client yet: register one for its admin's browser sign-in.
    await server.authority.store.createClient({
      id: OTHER_APP, orgId, name: 'Other App', type: 'public', secretHash: null, redirectUris: ['http://127.0.0.1/callback'],
      grantTypes: ['authorization_code'], postLogoutRedirectUris: [], backchannelLogoutUri: null, allowedOrigins: [], roles: [], loopbackAnyPort: true, createdAt: Date.now(),
    });
    const bAdmin = (await signIn(url, new Browser(), { clientId: OTHER_APP, redirectUri: REDIRECT }, { username: bAdminEmail, password })).tokens.access_token;

    // Org B's admin builds the rest of org B through the API: a confidential admin client, a user, a group.
    const created = await call(url, bAdmin, {
      method: 'POST', path: '/api/v2/oauth/clients',
      body: { name: 'Other Automation', type: 'confidential', redirectUris: ['http://127.0.0.1/callback'], grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], roles: ['admin'], loopbackAnyPort: true },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const bClient = (await created.json()) as { id: string; secret: string };
    assert.ok(bClient.secret);
    bConfidential = { id: bClient.id, secret: bClient.secret };

    const bUserRes = await call(url, bAdmin, { method: 'POST', path: '/api/v2/users', body: { email: 'agent@other.test', name: 'Other Agent', password: 'other-agent-password', roles: ['agent'] } });
    assert.equal(bUserRes.status, 201, await bUserRes.clone().text());
    const bUserId = ((await bUserRes.json()) as { id: string }).id;
    const bGroup = await call(url, bAdmin, { method: 'POST', path: '/api/v2/groups', body: { name: 'Other Team', memberIds: [bUserId] } });
    assert.equal(bGroup.status, 201);
    const bUser = (await signIn(url, new Browser(), { clientId: bClient.id, clientSecret: bClient.secret, redirectUri: REDIRECT }, { username: 'agent@other.test', password: 'other-agent-password' })).tokens;
    const bMe = await json(url, bAdmin, '/api/v2/tokens/me');
    B = {
      id: orgId, admin: bAdmin, automation: await clientCredentials(url, bClient.id, bClient.secret), adminId: bMe.user.id,
      user: { id: bUserId, email: 'agent@other.test', access: bUser.access_token, refresh: bUser.refresh_token! },
      groupId: ((await bGroup.json()) as { id: string }).id, clientIds: [OTHER_APP, bClient.id],
    };

    // Org A: the seeded demo org.
    const aAutomation = await clientCredentials(url, 'automation', DEMO_SECRET);
    const aAdmin = (await signIn(url, new Browser(), { clientId: 'agent-desktop', redirectUri: REDIRECT }, { username: 'admin@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
    const aAgent = (await signIn(url, new Browser(), { clientId: 'agent-desktop', redirectUri: REDIRECT }, { username: 'agent@demo.test', password: DEMO_PASSWORD })).tokens;
    const aGroup = await call(url, aAutomation, { method: 'POST', path: '/api/v2/groups', body: { name: 'Demo Team', memberIds: [] } });
    assert.equal(aGroup.status, 201);
    A = {
      id: 'demo', admin: aAdmin, automation: aAutomation, adminId: (await json(url, aAdmin, '/api/v2/tokens/me')).user.id,
      user: { id: (await json(url, aAgent.access_token, '/api/v2/tokens/me')).user.id, email: 'agent@demo.test', access: aAgent.access_token, refresh: aAgent.refresh_token! },
      groupId: ((await aGroup.json()) as { id: string }).id, clientIds: ['agent-desktop', 'automation', 'crm-backend'],
    };
    const members = await call(url, aAutomation, { method: 'POST', path: `/api/v2/groups/${A.groupId}/members`, body: { memberIds: [A.user.id] } });
    assert.equal(members.status, 200);
  });
  after(() => server.stop());

  test('the CLI-created org is its own org: its admin and its client token see org B', async () => {
    for (const token of [B.admin, B.automation]) {
      const me = await json(url, token, '/api/v2/tokens/me');
      assert.deepEqual(me.organization, { id: B.id, name: 'Other' });
    }
    assert.equal((await json(url, B.admin, '/api/v2/tokens/me')).user.email, bAdminEmail);
    assert.deepEqual((await json(url, A.admin, '/api/v2/tokens/me')).organization.id, 'demo');
  });

  test('the demo platform (an interaction feed any user may drive for itself) serves the demo org only', async () => {
    const refused = await call(url, B.user.access, { method: 'PUT', path: '/demo/platform/interactions/call-1', body: { type: 'voice', state: 'connected' } });
    assert.equal(refused.status, 404, await refused.clone().text());
    assert.equal(server.authority.ledger.idle.isExempt(B.user.id), false, 'the org-B user did not exempt itself from the idle timeout');
    const demo = await call(url, A.user.access, { method: 'PUT', path: '/demo/platform/interactions/call-1', body: { type: 'voice', state: 'disconnected' } });
    assert.equal(demo.status, 200, 'the demo org keeps its demo');
  });

  test('a client of org B cannot end the sign-in session of an org-A user at /oauth/logout', async () => {
    const browser = new Browser();
    const { tokens } = await signIn(url, browser, { clientId: 'agent-desktop' }, { username: 'agent@demo.test', password: DEMO_PASSWORD });
    const res = await browser.fetch(`${url}/oauth/logout?client_id=${OTHER_APP}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /another organization/);
    assert.equal((await fetch(`${url}/api/v2/tokens/me`, { method: 'HEAD', headers: bearer(tokens.access_token) })).status, 200);
    const again = await authorizeRequest(url, browser, 'agent-desktop');
    assert.equal(again.status, 303, 'the sign-in session still answers with a code, no password asked');
  });

  test('sign-in to another org\'s client is refused, both ways', async () => {
    const attempt = async (clientId: string, username: string, password: string) => {
      const browser = new Browser();
      const form = await authorizeRequest(url, browser, clientId);
      assert.equal(form.status, 200);
      const res = await browser.fetch(`${url}/oauth/authorize`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...formFields(await form.text()), username, password }),
      });
      assert.equal(res.status, 403, `${username} → ${clientId}`);
      assert.equal(res.headers.get('location'), null, 'no code');
      assert.match(await res.text(), /cannot sign in to this application/);
      assert.equal(browser.cookies.has('lockstep_session'), false, 'no sign-in session was started');
    };
    await attempt('agent-desktop', 'agent@other.test', 'other-agent-password');
    await attempt('agent-desktop', bAdminEmail, bAdminPassword);
    await attempt(OTHER_APP, 'agent@demo.test', DEMO_PASSWORD);
  });

  test('lists show only the caller\'s own org', async () => {
    for (const [self, other] of [[A, B], [B, A]] as const) {
      for (const token of [self.admin, self.automation]) {
        const users = await json(url, token, '/api/v2/users');
        const userIds = users.entities.map((u: { id: string }) => u.id);
        assert.ok(userIds.includes(self.user.id) && userIds.includes(self.adminId), 'own users are listed');
        assert.ok(!userIds.includes(other.user.id) && !userIds.includes(other.adminId), 'no user of the other org');
        assert.equal(users.total, users.entities.length);

        const groups = await json(url, token, '/api/v2/groups');
        const groupIds = groups.entities.map((g: { id: string }) => g.id);
        assert.ok(groupIds.includes(self.groupId));
        assert.ok(!groupIds.includes(other.groupId));

        const clients = await json(url, token, '/api/v2/oauth/clients');
        const clientIds = clients.entities.map((c: { id: string }) => c.id).sort();
        assert.ok(self.clientIds.every((id) => clientIds.includes(id)));
        assert.ok(other.clientIds.every((id) => !clientIds.includes(id)), `no client of the other org: ${clientIds}`);

        const audits = await json(url, token, '/api/v2/audits?pageSize=500');
        assert.ok(audits.entities.length > 0, 'the org has its own audit entries (logins)');
        for (const e of audits.entities) {
          assert.ok(![other.user.id, other.adminId].includes(e.userId), `audit entry of the other org: ${JSON.stringify(e)}`);
          assert.ok(!other.clientIds.includes(e.clientId), `audit entry of the other org: ${JSON.stringify(e)}`);
        }
        // Filtering by the other org's user id finds nothing rather than that user's log.
        assert.deepEqual((await json(url, token, `/api/v2/audits?userId=${other.user.id}`)).entities, []);
      }
    }
  });

  test('from org B, every admin route on org A ids answers 404 and changes nothing in org A', async () => {
    const before = await snapshot(url, A);
    for (const token of [B.admin, B.automation]) {
      for (const c of [...adminCallsOn(A), ...userStatusCallsOn(A)]) await assertRefused(url, token, c, [403, 404], [A.user.email, 'Demo Contact Center']);
    }
    // Naming org A's users as members of an org B group is refused as well.
    await assertRefused(url, B.admin, { method: 'POST', path: `/api/v2/groups/${B.groupId}/members`, body: { memberIds: [B.user.id, A.user.id] } }, [400, 404], [A.user.email]);
    await assertRefused(url, B.admin, { method: 'POST', path: '/api/v2/groups', body: { name: 'Poached', memberIds: [A.user.id] } }, [400, 404], [A.user.email]);
    await assertRefused(url, B.admin, { method: 'PATCH', path: `/api/v2/groups/${B.groupId}`, body: { memberIds: [A.adminId] } }, [400, 404], []);

    assert.deepEqual(await snapshot(url, A), before, 'org A is unchanged');
    assert.deepEqual((await json(url, B.admin, `/api/v2/groups/${B.groupId}`)).memberIds, [B.user.id], 'org B\'s group did not gain org A members');
    // Org A's tokens all survived, the agent's included (DELETE /api/v2/tokens/{agentId} was refused).
    for (const token of [A.user.access, A.admin, A.automation]) assert.equal(await isLive(url, token), 200);
    // Org A's own admin can still do what org B could not: the routes work, they were refused.
    assert.equal((await call(url, A.admin, { method: 'GET', path: `/api/v2/users/${A.user.id}` })).status, 200);
    assert.equal((await call(url, A.admin, { method: 'GET', path: '/api/v2/oauth/clients/agent-desktop' })).status, 200);
  });

  test('from org A, every admin route on org B ids answers 404 and changes nothing in org B', async () => {
    const before = await snapshot(url, B);
    for (const token of [A.admin, A.automation]) {
      for (const c of [...adminCallsOn(B), ...userStatusCallsOn(B)]) await assertRefused(url, token, c, [403, 404], [B.user.email, 'Other']);
    }
    assert.deepEqual(await snapshot(url, B), before, 'org B is unchanged');
    for (const token of [B.user.access, B.admin, B.automation]) assert.equal(await isLive(url, token), 200);
  });

  test('DELETE /api/v2/tokens/{userId} on a user of the other org is refused and the user stays signed in', async () => {
    for (const token of [B.admin, B.automation]) {
      await assertRefused(url, token, { method: 'DELETE', path: `/api/v2/tokens/${A.user.id}` }, [403, 404], [A.user.email]);
    }
    assert.equal(await isLive(url, A.user.access), 200, 'org A\'s agent token is still live');
    const me = await json(url, A.user.access, '/api/v2/tokens/me');
    assert.equal(me.user.email, 'agent@demo.test');
    // Nothing was written to org A's audit log on org B's behalf.
    const logoffs = await json(url, A.automation, `/api/v2/audits?kind=admin_logoff&userId=${A.user.id}`);
    assert.deepEqual(logoffs.entities, []);
    // The agent's refresh token is untouched too.
    const refreshed = await fetch(`${url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'agent-desktop', refresh_token: A.user.refresh }),
    });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    A.user.access = next.access_token;
    A.user.refresh = next.refresh_token;

    // Control: in its own org the same route works (org B's admin logs off org B's agent).
    assert.equal((await call(url, B.admin, { method: 'DELETE', path: `/api/v2/tokens/${B.user.id}` })).status, 204);
    assert.equal(await isLive(url, B.user.access), 401);
    assert.equal(await isLive(url, A.user.access), 200, 'and that logoff did not touch org A');
  });

  test('a non-admin gets 403 on every admin route, in its own org and across orgs', async () => {
    const agent2 = (await json(url, A.automation, '/api/v2/users')).entities.find((u: { email: string }) => u.email === 'agent2@demo.test');
    const own: Call[] = [
      { method: 'GET', path: '/api/v2/users' },
      { method: 'POST', path: '/api/v2/users', body: { email: 'sneaky@demo.test', name: 'Sneaky', roles: ['admin'] } },
      ...adminCallsOn({ ...A, user: { ...A.user, id: agent2.id } }),
      { method: 'PATCH', path: `/api/v2/users/${A.user.id}`, body: { roles: ['admin'] } },
      { method: 'GET', path: '/api/v2/groups' },
      { method: 'POST', path: '/api/v2/groups', body: { name: 'Mine' } },
      { method: 'GET', path: '/api/v2/oauth/clients' },
      { method: 'POST', path: '/api/v2/oauth/clients', body: { name: 'Mine', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'], roles: ['admin'] } },
      { method: 'GET', path: '/api/v2/audits' },
    ];
    const before = await snapshot(url, A);
    for (const c of own) await assertRefused(url, A.user.access, c, [403], []);
    for (const c of adminCallsOn(B)) await assertRefused(url, A.user.access, c, [403], [B.user.email]);
    for (const c of userStatusCallsOn(B)) await assertRefused(url, A.user.access, c, [403, 404], [B.user.email]);
    const res = await call(url, A.user.access, { method: 'GET', path: '/api/v2/users' });
    assert.equal((await res.json()).code, 'missing.permission');
    assert.deepEqual(await snapshot(url, A), before, 'org A is unchanged');
    assert.equal(await isLive(url, A.user.access), 200);
    assert.equal(await isLive(url, A.admin), 200);
  });

  test('introspection by an org-B confidential client of an org-A token answers {active:false}', async () => {
    assert.deepEqual(await introspect(url, bConfidential.id, bConfidential.secret, A.user.access), { active: false });
    assert.deepEqual(await introspect(url, bConfidential.id, bConfidential.secret, A.user.refresh), { active: false });
    assert.deepEqual(await introspect(url, bConfidential.id, bConfidential.secret, A.automation), { active: false });
    // The other way round too.
    assert.deepEqual(await introspect(url, 'crm-backend', DEMO_SECRET, B.admin), { active: false });
    assert.deepEqual(await introspect(url, 'crm-backend', DEMO_SECRET, B.automation), { active: false });
    // Controls: each org's own client sees its own org's live tokens.
    const own = await introspect(url, 'crm-backend', DEMO_SECRET, A.user.access);
    assert.equal(own.active, true);
    assert.equal(own.org_id, 'demo');
    const ownB = await introspect(url, bConfidential.id, bConfidential.secret, B.admin);
    assert.equal(ownB.active, true);
    assert.equal(ownB.org_id, B.id);
  });

  test('revocation by an org-B client of an org-A token is refused and the token stays live', async () => {
    for (const [token, auth] of [
      [A.user.access, `Basic ${Buffer.from(`${bConfidential.id}:${bConfidential.secret}`).toString('base64')}`],
      [A.user.refresh, `Basic ${Buffer.from(`${bConfidential.id}:${bConfidential.secret}`).toString('base64')}`],
    ] as const) {
      const res = await fetch(`${url}/oauth/revoke`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: new URLSearchParams({ token }),
      });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error, 'invalid_request');
    }
    const publicB = await fetch(`${url}/oauth/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: A.user.access, client_id: OTHER_APP }),
    });
    assert.equal(publicB.status, 400);
    assert.equal(await isLive(url, A.user.access), 200);
    assert.equal((await introspect(url, 'crm-backend', DEMO_SECRET, A.user.refresh)).active, true);
  });

  test('settings are per org: org B turning on the idle timeout leaves org A\'s settings and tokens alone', async () => {
    const aBefore = await json(url, A.automation, '/api/v2/tokens/timeout');
    const aMeBefore = await json(url, A.user.access, '/api/v2/tokens/me?preserveIdleTTL=true');
    const put = await call(url, B.admin, { method: 'PUT', path: '/api/v2/tokens/timeout', body: { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 1800 } });
    assert.equal(put.status, 200, await put.clone().text());
    const bNow = await json(url, B.automation, '/api/v2/tokens/timeout');
    assert.equal(bNow.enableIdleTokenTimeout, true);
    assert.equal(bNow.idleTokenTimeoutSeconds, 1800);
    assert.deepEqual(await json(url, A.automation, '/api/v2/tokens/timeout'), aBefore);
    assert.equal((await json(url, A.user.access, '/api/v2/tokens/me?preserveIdleTTL=true')).dateTokenIdles, aMeBefore.dateTokenIdles);
    // Org B's settings change is in org B's audit log only.
    const aChanges = await json(url, A.automation, '/api/v2/audits?kind=settings_changed');
    assert.ok(aChanges.entities.every((e: { clientId: string | null }) => !B.clientIds.includes(e.clientId!)));
    assert.ok((await json(url, B.automation, '/api/v2/audits?kind=settings_changed')).entities.length >= 1);
  });

  test('afterwards the server still answers', async () => {
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });
});
