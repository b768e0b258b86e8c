/**
 * The official Genesys Cloud SDK (`purecloud-platform-client-v2`), unmodified, pointed at Lockstep
 * through its own setGateway: each call goes through the SDK's *Api classes and is asserted on the
 * SDK model's fields. The README's list of Genesys calls served is this file's list of calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import platformClient from 'purecloud-platform-client-v2';
import { authorizeCode, automationToken, Browser, signIn } from './helpers/browser.ts';
import { isTokenRevoked, openChannel } from './helpers/channel.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

describe('the official Genesys Cloud SDK against Lockstep', () => {
  let server: TestServer;
  const client = platformClient.ApiClient.instance;
  /** The SDK holds one access token at a time (its singleton ApiClient). */
  let current = '';
  const as = (token: string) => client.setAccessToken((current = token));

  before(async () => {
    server = await startTestServer();
    const { hostname, port, protocol } = new URL(server.url);
    client.setGateway({ protocol: protocol.replace(':', ''), host: hostname, port: Number(port), path_params_login: '', path_params_api: '' });
  });
  after(() => server.stop());
  const agentToken = async (clientId = 'desktop-app', browser = new Browser()) => (await signIn(server.url, browser, { clientId }, agent)).tokens.access_token;
  const adminToken = () => automationToken(server.url, DEMO_SECRET);

  test('loginClientCredentialsGrant, then organizations/me and tokens/me for the client', async () => {
    const auth = await client.loginClientCredentialsGrant('automation', DEMO_SECRET);
    assert.ok(auth.accessToken);
    const org = await new platformClient.OrganizationApi().getOrganizationsMe();
    assert.equal(org.id, 'demo');
    assert.equal(org.name, 'Demo Contact Center');
    assert.equal(typeof org.version, 'number');
    await new platformClient.TokensApi().headTokensMe();
  });

  test('users/me through UsersApi; a client-credentials token has no user', async () => {
    as((await signIn(server.url, new Browser(), { clientId: 'desktop-app' }, agent)).tokens.access_token);
    const me = await new platformClient.UsersApi().getUsersMe();
    assert.equal(me.email, 'agent@demo.test');
    assert.equal(me.name, 'Alex Agent');
    assert.equal(me.username, 'agent@demo.test');
    as(await automationToken(server.url, DEMO_SECRET));
    // The SDK rejects with the error body itself (Genesys's ErrorBody).
    await assert.rejects(new platformClient.UsersApi().getUsersMe(), (err: any) => err.status === 400 && /client/.test(err.message) && !!err.contextId);
  });

  test('notification channel through NotificationsApi: available topics, create (no body), head, subscribe, unsubscribe (no body)', async () => {
    as((await signIn(server.url, new Browser(), { clientId: 'desktop-app' }, agent)).tokens.access_token);
    const notifications = new platformClient.NotificationsApi();
    const topics = await notifications.getNotificationsAvailabletopics();
    assert.deepEqual(topics.entities!.map((t) => t.id).sort(), ['v2.users.{id}.presence', 'v2.users.{id}.routingstatus']);
    const channel = await notifications.postNotificationsChannels();
    assert.match(channel.connectUri!, /^ws:\/\//);
    await notifications.headNotificationsChannel(channel.id!);
    const userId = (await new platformClient.UsersApi().getUsersMe()).id!;
    const subscribed = await notifications.postNotificationsChannelSubscriptions(channel.id!, [{ id: `v2.users.${userId}.presence` }]);
    assert.deepEqual(subscribed.entities!.map((t) => t.id), [`v2.users.${userId}.presence`]);
    await notifications.deleteNotificationsChannelSubscriptions(channel.id!);
    assert.deepEqual((await notifications.getNotificationsChannelSubscriptions(channel.id!)).entities, []);
    // A HEAD answer has no body: the SDK rejects with nothing; the status is checked on the wire.
    await assert.rejects(notifications.headNotificationsChannel('no-such-channel'));
    const head = await fetch(`${server.url}/api/v2/notifications/channels/no-such-channel`, { method: 'HEAD', headers: { authorization: `Bearer ${current}` } });
    assert.equal(head.status, 404);
  });

  test('deleteTokensMe (the SDK sends a JSON content type and no body) is a logout; the token then answers token.revoked', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'desktop-app' }, agent)).tokens.access_token;
    as(token);
    const tokens = new platformClient.TokensApi();
    const channel = await openChannel(server.url, token);
    await tokens.deleteTokensMe();
    const revoked = await channel.next((m) => m.topicName === 'v2.system.token_revoked');
    assert.equal(revoked.eventBody.reason, 'logout');
    assert.equal((await channel.closed).code, 4001);
    await assert.rejects(tokens.headTokensMe());
    await assert.rejects(tokens.getTokensMe(), (err: any) => err.status === 401 && err.code === 'token.revoked' && err.reason === 'logout' && !!err.contextId);
  });

  test('deleteToken(userId) is an administrative logoff of every token of the user', async () => {
    const browser = new Browser();
    const desktop = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const crm = (await signIn(server.url, browser, { clientId: 'crm-embedded' })).tokens.access_token;
    as(desktop);
    const userId = (await new platformClient.UsersApi().getUsersMe()).id!;
    as(await automationToken(server.url, DEMO_SECRET));
    await new platformClient.TokensApi().deleteToken(userId);
    for (const token of [desktop, crm]) {
      const res = await fetch(`${server.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).reason, 'admin_logoff');
    }
  });

  test("logout(): the SDK's logout URL is served", async () => {
    const url = new URL(`${server.url}/logout`);
    url.search = new URLSearchParams({ client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:9/callback' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), 'http://127.0.0.1:9/callback');
  });

  test('authorizePKCEGrant: the SDK exchanges the code of an authorization (PKCE S256) for its access token', async () => {
    const step = await authorizeCode(server.url, new Browser(), { clientId: 'desktop-app' }, agent);
    const auth = await client.authorizePKCEGrant('desktop-app', step.verifier, step.code, step.redirectUri);
    assert.ok(auth.accessToken);
    assert.equal((await new platformClient.UsersApi().getUsersMe()).email, 'agent@demo.test', 'the SDK now calls with that token');
  });

  test('getTokensMe: the SDK TokenInfo, with dateTokenIdles once an idle timeout applies', async () => {
    as(await adminToken());
    const tokens = new platformClient.TokensApi();
    const timeout = await tokens.putTokensTimeout({ body: { enableIdleTokenTimeout: true } });
    assert.equal(timeout.enableIdleTokenTimeout, true, 'putTokensTimeout with the flag alone');
    assert.equal(timeout.idleTokenTimeoutSeconds, 900, 'the other fields keep their values');
    assert.equal(timeout.inactivityTimeoutUnit, 'MINUTES');
    assert.deepEqual(await tokens.getTokensTimeout(), timeout);
    try {
      as(await agentToken());
      const info = await tokens.getTokensMe();
      assert.deepEqual(info.organization, { id: 'demo', name: 'Demo Contact Center' });
      assert.deepEqual(info.homeOrganization, info.organization);
      assert.equal(info.OAuthClient!.id, 'desktop-app');
      assert.equal(info.OAuthClient!.authorizedGrantType, 'CODE');
      assert.ok(info.authorizedScope!.includes('openid'));
      const idles = Date.parse(info.dateTokenIdles!);
      assert.ok(idles > Date.now() + 800_000 && idles <= Date.now() + 900_000, `dateTokenIdles ${info.dateTokenIdles} is 15 minutes ahead`);
    } finally {
      as(await adminToken());
      assert.equal((await tokens.putTokensTimeout({ body: { enableIdleTokenTimeout: false } })).enableIdleTokenTimeout, false);
    }
  });

  test('organization authentication settings and the HIPAA feature through OrganizationApi', async () => {
    as(await adminToken());
    const org = new platformClient.OrganizationApi();
    assert.deepEqual(await org.getOrganizationsAuthenticationSettings(), { universalLogout: false, inactivityTimeoutExclusions: [] });
    const excluded = await org.patchOrganizationsAuthenticationSettings({ inactivityTimeoutExclusions: ['/api/v2/analytics/queues/*/observations'] });
    assert.deepEqual(excluded, { universalLogout: false, inactivityTimeoutExclusions: ['/api/v2/analytics/queues/*/observations'] });
    await assert.rejects(org.patchOrganizationsAuthenticationSettings({ inactivityTimeoutExclusions: ['/oauth/token'] }),
      (err: any) => err.status === 400 && /inactivityTimeoutExclusions/.test(err.message));
    assert.deepEqual(await org.patchOrganizationsAuthenticationSettings({ inactivityTimeoutExclusions: [] }), { universalLogout: false, inactivityTimeoutExclusions: [] });

    assert.deepEqual(await org.patchOrganizationsFeature('hipaa', { enabled: true }), { hipaa: true });
    assert.equal((await org.getOrganizationsMe()).features!.hipaa, true);
    await assert.rejects(new platformClient.TokensApi().putTokensTimeout({ body: { idleTokenTimeoutSeconds: 3600 } }),
      (err: any) => err.status === 400 && /HIPAA/.test(err.message), 'HIPAA caps the idle timeout at 15 minutes');
    assert.deepEqual(await org.patchOrganizationsFeature('hipaa', { enabled: false }), { hipaa: false });
  });

  test('universal logout: patchOrganizationsAuthenticationSettings({universalLogout: true}), then deleteTokensMe() ends the other client too', async () => {
    as(await adminToken());
    const org = new platformClient.OrganizationApi();
    assert.equal((await org.patchOrganizationsAuthenticationSettings({ universalLogout: true })).universalLogout, true);
    try {
      const browser = new Browser();
      const desktop = await agentToken('agent-desktop', browser);
      const crm = await agentToken('crm-embedded', browser);
      const other = await openChannel(server.url, crm);
      as(desktop);
      await new platformClient.TokensApi().deleteTokensMe();
      const revoked = await other.next(isTokenRevoked);
      assert.equal(revoked.eventBody.reason, 'universal_logout');
      assert.equal(revoked.eventBody.initiatingClientId, 'agent-desktop');
      assert.equal((await other.closed).code, 4001);
      as(crm);
      await assert.rejects(new platformClient.TokensApi().getTokensMe(), (err: any) => err.status === 401 && err.reason === 'universal_logout');
    } finally {
      as(await adminToken());
      assert.equal((await org.patchOrganizationsAuthenticationSettings({ universalLogout: false })).universalLogout, false);
    }
  });

  test('presence through PresenceApi, set by definition id; routing status through UsersApi; both pushed on the channel', async () => {
    const token = await agentToken();
    as(token);
    const presence = new platformClient.PresenceApi();
    const definitions = await presence.getPresenceDefinitions0();
    assert.deepEqual(definitions.entities!.map((d) => d.systemPresence).sort(),
      ['Available', 'Away', 'Break', 'Busy', 'Meal', 'Meeting', 'Offline', 'On Queue', 'Training']);
    assert.equal(definitions.total, 9);
    const idOf = (name: string) => definitions.entities!.find((d) => d.systemPresence === name)!.id!;
    assert.equal(idOf('On Queue'), 'e08eaf1b-ee47-4fa9-a231-1200e284798f', "Genesys Cloud's id");
    assert.equal((await presence.getPresenceDefinition0(idOf('Busy'))).languageLabels.en_US, 'Busy');

    const userId = (await new platformClient.UsersApi().getUsersMe()).id!;
    const channel = await openChannel(server.url, token, [`v2.users.${userId}.presence`, `v2.users.${userId}.routingstatus`]);
    const set = await presence.patchUserPresencesPurecloud(userId, { presenceDefinition: { id: idOf('Available') } });
    assert.deepEqual([set.source, set.presenceDefinition!.id, set.presenceDefinition!.systemPresence], ['PURECLOUD', idOf('Available'), 'Available']);
    const pushed = await channel.next((m) => m.topicName === `v2.users.${userId}.presence`);
    assert.deepEqual(pushed.eventBody.presenceDefinition, { id: idOf('Available'), systemPresence: 'Available' });
    assert.equal((await presence.getUserPresencesPurecloud(userId)).presenceDefinition!.systemPresence, 'Available');

    const onQueue = await presence.patchUserPresence(userId, 'purecloud', { presenceDefinition: { id: idOf('On Queue') } });
    assert.equal(onQueue.presenceDefinition!.systemPresence, 'On Queue');
    assert.equal((await presence.getUserPresence(userId, 'purecloud')).presenceDefinition!.id, idOf('On Queue'));
    const users = new platformClient.UsersApi();
    assert.equal((await users.getUserRoutingstatus(userId)).status, 'IDLE', 'On Queue makes the agent routable');
    assert.equal((await users.putUserRoutingstatus(userId, { status: 'INTERACTING' })).status, 'INTERACTING');
    const routed = await channel.next((m) => m.topicName === `v2.users.${userId}.routingstatus` && m.eventBody.routingStatus.status === 'INTERACTING');
    assert.ok(routed.eventBody.routingStatus.startTime);
    await assert.rejects(presence.patchUserPresencesPurecloud(userId, { presenceDefinition: { id: '00000000-0000-4000-8000-000000000000' } }),
      (err: any) => err.status === 400 && /presence definition/.test(err.message));
    channel.ws.close();
  });

  test('users through UsersApi: paged list, create, get, patch with version, delete', async () => {
    as(await adminToken());
    const users = new platformClient.UsersApi();
    const first = await users.getUsers({ pageSize: 2, pageNumber: 1 });
    assert.equal(first.pageSize, 2);
    assert.equal(first.pageNumber, 1);
    assert.equal(first.entities!.length, 2);
    assert.equal(first.pageCount, Math.ceil(first.total! / 2));
    const created = await users.postUsers({ name: 'Sam Supervisor', email: 'sam@demo.test', divisionId: 'ignored', roles: ['supervisor'] } as any);
    assert.deepEqual([created.email, created.username, created.state, created.version], ['sam@demo.test', 'sam@demo.test', 'active', 1]);
    assert.equal((await users.getUser(created.id!)).name, 'Sam Supervisor');
    const renamed = await users.patchUser(created.id!, { name: 'Sam S.', version: 1 });
    assert.deepEqual([renamed.name, renamed.version], ['Sam S.', 2]);
    await assert.rejects(users.patchUser(created.id!, { name: 'Stale', version: 1 }), (err: any) => err.status === 409 && /version/.test(err.message));
    await users.deleteUser(created.id!);
    await assert.rejects(users.getUser(created.id!), (err: any) => err.status === 404);
  });

  test("groups through GroupsApi: the SDK's group model, members added and removed, versions", async () => {
    as(await adminToken());
    const groups = new platformClient.GroupsApi();
    const agentId = (await new platformClient.UsersApi().getUsers({ pageSize: 100 })).entities!.find((u) => u.email === 'agent@demo.test')!.id!;
    const group = await groups.postGroups({ name: 'Night shift', type: 'official', visibility: 'members', rulesVisible: true });
    assert.deepEqual([group.type, group.visibility, group.rulesVisible, group.state, group.version, group.memberCount], ['official', 'members', true, 'active', 1, 0]);
    await groups.postGroupMembers(group.id!, { memberIds: [agentId], version: 1 });
    const members = await groups.getGroupMembers(group.id!);
    assert.deepEqual(members.entities!.map((u) => u.id), [agentId]);
    assert.equal(members.total, 1);
    const renamed = await groups.putGroup(group.id!, { body: { name: 'Night shift B', version: 2 } });
    assert.deepEqual([renamed.name, renamed.version, renamed.memberCount], ['Night shift B', 3, 1]);
    await assert.rejects(groups.putGroup(group.id!, { body: { name: 'Stale', version: 2 } }), (err: any) => err.status === 409);
    assert.ok((await groups.getGroups({ pageSize: 100 })).entities!.some((g) => g.id === group.id));
    await groups.deleteGroupMembers(group.id!, agentId);
    assert.equal((await groups.getGroup(group.id!)).memberCount, 0);
    await groups.deleteGroup(group.id!);
    await assert.rejects(groups.getGroup(group.id!), (err: any) => err.status === 404);
  });

  test('subscriptions: putNotificationsChannelSubscriptions with ignoreErrors answers rejected topics with state and rejectionReason', async () => {
    as(await agentToken());
    const notifications = new platformClient.NotificationsApi();
    const channel = await notifications.postNotificationsChannels();
    assert.ok((await notifications.getNotificationsChannels()).entities!.some((c) => c.id === channel.id));
    const userId = (await new platformClient.UsersApi().getUsersMe()).id!;
    const answer = await notifications.putNotificationsChannelSubscriptions(channel.id!,
      [{ id: `v2.users.${userId}.presence` }, { id: 'v2.routing.queues.q1.members' }], { ignoreErrors: true });
    assert.deepEqual(answer.entities!.map((t) => [t.id, t.state]), [[`v2.users.${userId}.presence`, 'Permitted'], ['v2.routing.queues.q1.members', 'Rejected']]);
    assert.match(answer.entities![1]!.rejectionReason!, /Unknown topic/);
    await assert.rejects(notifications.putNotificationsChannelSubscriptions(channel.id!, [{ id: 'v2.routing.queues.q1.members' }]),
      (err: any) => err.status === 404 && /Unknown topic/.test(err.message), 'without ignoreErrors the call fails');
    assert.deepEqual((await notifications.getNotificationsChannelSubscriptions(channel.id!)).entities, [{ id: `v2.users.${userId}.presence`, state: 'Permitted' }]);
  });
});
