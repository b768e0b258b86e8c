/**
 * The official Genesys Cloud SDK (`purecloud-platform-client-v2`), unmodified, pointed at Lockstep
 * through its own setGateway: each call goes through the SDK's *Api classes and is asserted on the
 * SDK model's fields. (Issue 9 in progress: the calls whose names and shapes already match.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import platformClient from 'purecloud-platform-client-v2';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { openChannel } from './helpers/channel.ts';
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
});
