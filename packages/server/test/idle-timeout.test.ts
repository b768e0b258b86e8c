import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { authorizeOutcome, automationToken, Browser, discover, insecure, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { presenceDefinitionId } from '../src/core/presence-definitions.ts';

const MIN = 60_000;
const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

/** Each scenario gets its own server whose clock only moves when the test says so. */
async function setup(timeoutSeconds = 300) {
  const clock = new ManualClock(Date.now());
  const server = await startTestServer({ clock });
  const call = api(server.url);
  const admin = () => automationToken(server.url, DEMO_SECRET);
  const put = await call('PUT', '/api/v2/tokens/timeout', await admin(), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: timeoutSeconds });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const skew = () => (clock.now() - Date.now()) / 1000;
  const login = async (clientId: string, browser = new Browser(), who = agent) =>
    (await signIn(server.url, browser, { clientId, clockSkewSeconds: skew() }, who)).tokens.access_token;
  const head = async (token: string) => (await fetch(server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status;
  const advance = async (ms: number) => {
    clock.advance(ms);
    await server.authority.ledger.sweep();
  };
  const as = await discover(server.url);
  const introspect = async (token: string) => {
    const rs = { client_id: 'crm-backend' };
    return oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, oauth.ClientSecretBasic(DEMO_SECRET), token, insecure));
  };
  return { clock, server, call, admin, login, head, advance, introspect };
}

describe('idle token timeout (injected clock)', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => (s = await setup(300)));
  after(() => s.server.stop());

  test('a token used every 4 minutes lives for hours; an unused one dies at 5 minutes; clients expire independently', async () => {
    const browser = new Browser();
    const desktop = await s.login('agent-desktop', browser);
    const crm = await s.login('crm-embedded', browser);
    const info = await s.call('GET', '/api/v2/tokens/me?preserveIdleTTL=true', desktop);
    assert.equal(Date.parse(info.body.dateTokenIdles) - s.clock.now(), 5 * MIN);

    await s.advance(4 * MIN);
    assert.equal(await s.head(desktop), 200);
    assert.equal((await s.introspect(crm)).active, true, 'introspection is not activity and the CRM token is still inside its 5 minutes');
    await s.advance(1 * MIN);
    const dead = await fetch(s.server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${crm}` } });
    assert.equal(dead.status, 401);
    assert.match(dead.headers.get('www-authenticate')!, /idle timeout/);
    assert.deepEqual(await s.introspect(crm), { active: false });
    assert.equal(await s.head(desktop), 200, 'the desktop token has its own clock');

    for (let minute = 5; minute < 3 * 60; minute += 4) {
      await s.advance(4 * MIN);
      assert.equal(await s.head(desktop), 200, `desktop token at minute ${minute + 4}`);
    }
    assert.equal(await s.head(crm), 401);
  });

  test('two tabs sharing one token keep it alive together', async () => {
    const shared = await s.login('agent-desktop');
    for (let i = 0; i < 10; i++) {
      await s.advance(3 * MIN);
      const tab = i % 2 ? 'tab 2' : 'tab 1';
      assert.equal(await s.head(shared), 200, tab);
    }
    await s.advance(5 * MIN);
    assert.equal(await s.head(shared), 401);
  });

  test('preserveIdleTTL=true and an excluded path do not reset the clock', async () => {
    const adminToken = await s.admin();
    const settings = await s.call('PATCH', '/api/v2/organizations/authentication/settings', adminToken, { inactivityTimeoutExclusions: ['/api/v2/users/*/presences/*'] });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    assert.deepEqual(settings.body, { universalLogout: false, inactivityTimeoutExclusions: ['/api/v2/users/*/presences/*'] });
    const token = await s.login('desktop-app');
    const me = await s.call('GET', '/api/v2/tokens/me?preserveIdleTTL=true', token);
    const userId = me.body.user.id;

    await s.advance(4 * MIN);
    assert.equal((await s.call('GET', '/api/v2/tokens/me?preserveIdleTTL=true', token)).status, 200);
    assert.equal((await s.call('GET', `/api/v2/users/${userId}/presences/purecloud`, token)).status, 200);
    await s.advance(1 * MIN + 1000);
    assert.equal(await s.head(token), 401, 'neither call counted as activity');

    const other = await s.login('desktop-app');
    await s.advance(4 * MIN);
    assert.equal((await s.call('GET', '/api/v2/tokens/me', other)).status, 200, 'a plain GET counts');
    await s.advance(2 * MIN);
    assert.equal(await s.head(other), 200);
    await s.call('PATCH', '/api/v2/organizations/authentication/settings', await s.admin(), { inactivityTimeoutExclusions: [] });
  });

  test('while the timeout is on, the code grant issues no refresh token', async () => {
    const { tokens } = await signIn(s.server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: (s.clock.now() - Date.now()) / 1000 }, agent);
    assert.equal(tokens.refresh_token, undefined);
  });

  test('idle expiries are in the audit log with token, client, deadline and when noticed', async () => {
    const audits = await s.call('GET', '/api/v2/audits?kind=idle_timeout', await s.admin());
    assert.equal(audits.status, 200);
    const entry = audits.body.entities.find((e: any) => e.clientId === 'crm-embedded');
    assert.ok(entry, 'the CRM token expiry is audited');
    assert.ok(entry.details.accessTokenId);
    assert.ok(entry.details.deadline && entry.details.noticedAt);
    assert.ok(entry.userId);
    const filtered = await s.call('GET', `/api/v2/audits?kind=idle_timeout&userId=${entry.userId}&from=${new Date(s.clock.now() - 10 * 3600_000).toISOString()}`, await s.admin());
    assert.ok(filtered.body.entities.length >= 1);
    assert.ok(filtered.body.entities.every((e: any) => e.userId === entry.userId));
  });
});

describe('idle timeout settings', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => (s = await setup(300)));
  after(() => s.server.stop());

  const put = async (body: object) => s.call('PUT', '/api/v2/tokens/timeout', await s.admin(), { enableIdleTokenTimeout: true, ...body });

  test('PUT with one field changes that field only; the unit is kept and answered; an unknown unit or field is refused', async () => {
    assert.equal((await put({ idleTokenTimeoutSeconds: 1200, inactivityTimeoutUnit: 'HOURS' })).status, 200);
    const alone = await s.call('PUT', '/api/v2/tokens/timeout', await s.admin(), { enableIdleTokenTimeout: false });
    assert.equal(alone.status, 200, JSON.stringify(alone.body));
    assert.deepEqual(alone.body, {
      enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 1200, inactivityTimeoutUnit: 'HOURS',
      inactivityTimeoutGroupsEnabled: false, inactivityTimeoutGroupBundles: [],
    });
    assert.deepEqual((await s.call('GET', '/api/v2/tokens/timeout', await s.admin())).body, alone.body);
    for (const bad of [{ inactivityTimeoutUnit: 'DAYS' }, { excludedPaths: [] }, {}]) {
      const r = await s.call('PUT', '/api/v2/tokens/timeout', await s.admin(), bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    assert.equal((await put({ idleTokenTimeoutSeconds: 300, inactivityTimeoutUnit: 'MINUTES' })).status, 200);
  });

  test('range: 299 and 28,801 refused, 300 and 28,800 accepted; agents cannot change it but can read it', async () => {
    for (const bad of [299, 28_801]) {
      const r = await put({ idleTokenTimeoutSeconds: bad });
      assert.equal(r.status, 400, `${bad}`);
      assert.match(r.body.message, /idleTokenTimeoutSeconds/);
    }
    for (const good of [300, 28_800]) assert.equal((await put({ idleTokenTimeoutSeconds: good })).status, 200);
    const agentToken = await s.login('agent-desktop');
    assert.equal((await s.call('GET', '/api/v2/tokens/timeout', agentToken)).body.idleTokenTimeoutSeconds, 28_800);
    assert.equal((await s.call('PUT', '/api/v2/tokens/timeout', agentToken, { enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 600 })).status, 403);
  });

  test('HIPAA: enabling with a 3,600 s timeout is refused with what to lower; then 901 is refused and 900 accepted', async () => {
    assert.equal((await put({ idleTokenTimeoutSeconds: 3600 })).status, 200);
    const refused = await s.call('PATCH', '/api/v2/organizations/features/hipaa', await s.admin(), { enabled: true });
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /idleTokenTimeoutSeconds \(now 3600 s\).*900/);
    assert.deepEqual((await s.call('GET', '/api/v2/organizations/me', await s.admin())).body.features, { hipaa: false });

    assert.equal((await put({ idleTokenTimeoutSeconds: 900 })).status, 200);
    const on = await s.call('PATCH', '/api/v2/organizations/features/hipaa', await s.admin(), { enabled: true });
    assert.deepEqual([on.status, on.body], [200, { hipaa: true }], 'answered as OrganizationFeatures');
    assert.deepEqual((await s.call('GET', '/api/v2/organizations/me', await s.admin())).body.features, { hipaa: true });
    assert.equal((await s.call('PATCH', '/api/v2/organizations/features/pci', await s.admin(), { enabled: true })).status, 404, 'a feature Lockstep does not have');
    const over = await put({ idleTokenTimeoutSeconds: 901 });
    assert.equal(over.status, 400);
    assert.match(over.body.message, /HIPAA.*900/);
    const bundleOver = await put({ idleTokenTimeoutSeconds: 900, inactivityTimeoutGroupBundles: [{ priority: 1, timeoutSeconds: 1800, groups: ['g'] }] });
    assert.equal(bundleOver.status, 400);
    assert.equal((await s.call('PATCH', '/api/v2/organizations/features/hipaa', await s.admin(), { enabled: false })).status, 200);
  });

  test('group bundles: a user in two bundles gets the lowest priority number; others the org timeout; applies at once', async () => {
    const adminToken = await s.admin();
    const users = (await s.call('GET', '/api/v2/users', adminToken)).body.entities;
    const agentId = users.find((u: any) => u.email === 'agent@demo.test').id;
    const g1 = (await s.call('POST', '/api/v2/groups', adminToken, { name: 'Tier 1', memberIds: [agentId] })).body.id;
    const g2 = (await s.call('POST', '/api/v2/groups', adminToken, { name: 'Night shift', memberIds: [agentId] })).body.id;
    const agentToken = await s.login('agent-desktop');
    const agent2Token = await s.login('agent-desktop', new Browser(), { username: 'agent2@demo.test', password: DEMO_PASSWORD });

    const r = await put({
      idleTokenTimeoutSeconds: 600, inactivityTimeoutGroupsEnabled: true,
      inactivityTimeoutGroupBundles: [{ priority: 2, timeoutSeconds: 1800, groups: [g1] }, { priority: 1, timeoutSeconds: 1200, groups: [g2] }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const idleIn = async (token: string) => {
      const me = await s.call('GET', '/api/v2/tokens/me', token);
      return (Date.parse(me.body.dateTokenIdles) - s.clock.now()) / 1000;
    };
    assert.equal(await idleIn(agentToken), 1200, 'priority 1 bundle wins');
    assert.equal(await idleIn(agent2Token), 600, 'not in a bundle: the org timeout');
    const agent2Id = users.find((u: any) => u.email === 'agent2@demo.test').id;
    const added = await s.call('POST', `/api/v2/groups/${g2}/members`, adminToken, { memberIds: [agent2Id], version: 1 });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual([added.body.version, added.body.memberCount], [2, 2]);
    assert.equal(await idleIn(agent2Token), 1200, 'added to a bundle\'s group: the live token gets the bundle\'s timeout at once');
    assert.equal((await s.call('DELETE', `/api/v2/groups/${g2}/members?ids=${agent2Id}`, adminToken)).status, 200);
    assert.equal(await idleIn(agent2Token), 600, 'removed again: back to the org timeout');
    await put({ idleTokenTimeoutSeconds: 600, inactivityTimeoutGroupsEnabled: false, inactivityTimeoutGroupBundles: [] });
    assert.equal(await idleIn(agentToken), 600);
  });
});

describe('exemptions, presence and no silent undo', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  let agentId: string;
  before(async () => {
    s = await setup(300);
    agentId = (await s.call('GET', '/api/v2/users', await s.admin())).body.entities.find((u: any) => u.email === 'agent@demo.test').id;
  });
  after(() => s.server.stop());

  const feed = async (interactionId: string, type: string, state: string) => {
    const r = await s.call('PUT', `/api/v2/users/${agentId}/interactions/${interactionId}`, await s.admin(), { type, state });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  test('a connected voice interaction exempts for an hour; after disconnect the token dies one timeout later', async () => {
    const token = await s.login('agent-desktop');
    assert.equal((await feed('call-1', 'voice', 'connected')).idleTimeoutExempt, true);
    await s.advance(60 * MIN);
    assert.equal((await s.introspect(token)).active, true);
    await feed('call-1', 'voice', 'disconnected');
    await s.advance(5 * MIN - 1000);
    assert.equal((await s.introspect(token)).active, true, 'the clock restarted at the disconnect');
    await s.advance(1000);
    assert.equal(await s.head(token), 401);
  });

  test('after-call work exempts too; a chat does not', async () => {
    const token = await s.login('agent-desktop');
    await feed('email-1', 'email', 'acw');
    await s.advance(90 * MIN);
    assert.equal(await s.head(token), 200);
    await feed('email-1', 'email', 'disconnected');

    const chatting = await s.login('agent-desktop');
    assert.equal((await feed('chat-1', 'chat', 'connected')).idleTimeoutExempt, false);
    await s.advance(5 * MIN);
    assert.equal(await s.head(chatting), 401);
    await feed('chat-1', 'chat', 'disconnected');
  });

  test("idle expiry of the agent's only token sets Offline / OFF_QUEUE; with a second live token presence is left alone", async () => {
    const desktop = await s.login('agent-desktop');
    await s.call('PATCH', `/api/v2/users/${agentId}/presences/purecloud`, desktop, { presenceDefinition: { id: presenceDefinitionId('Available') } });
    await s.call('PUT', `/api/v2/users/${agentId}/routingstatus`, desktop, { status: 'IDLE' });
    const crm = await s.login('crm-embedded');
    for (let i = 0; i < 3; i++) {
      await s.advance(3 * MIN);
      assert.equal(await s.head(crm), 200);
    }
    assert.equal(await s.head(desktop), 401, 'desktop idled out');
    const adminToken = await s.admin();
    assert.equal((await s.call('GET', `/api/v2/users/${agentId}/presences/purecloud`, adminToken)).body.presenceDefinition.systemPresence, 'Available');
    assert.equal((await s.call('GET', `/api/v2/users/${agentId}/routingstatus`, adminToken)).body.status, 'IDLE');

    await s.advance(5 * MIN);
    assert.equal(await s.head(crm), 401);
    const presence = await s.call('GET', `/api/v2/users/${agentId}/presences/purecloud`, await s.admin());
    assert.equal(presence.body.presenceDefinition.systemPresence, 'Offline');
    assert.equal((await s.call('GET', `/api/v2/users/${agentId}/routingstatus`, await s.admin())).body.status, 'OFF_QUEUE');
  });

  test('no silent undo: after idle expiry, authorize shows the login form; while another token of the session lives, it does not', async () => {
    const browser = new Browser();
    const desktop = await s.login('agent-desktop', browser);
    await s.advance(3 * MIN);
    const crm = await s.login('crm-embedded', browser);
    assert.equal(await s.head(crm), 200);
    await s.advance(2 * MIN + 1000);
    assert.equal(await s.head(desktop), 401, 'desktop idled out');
    assert.equal(await authorizeOutcome(s.server.url, browser, 'agent-desktop'), 'code', 'the CRM token of the same session is live');

    const alone = new Browser();
    await s.login('agent-desktop', alone);
    await s.advance(5 * MIN);
    assert.equal(await authorizeOutcome(s.server.url, alone, 'agent-desktop'), 'login_form');
  });
});
