import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api } from './helpers/api.ts';
import { automationToken, bearer, Browser, signIn } from './helpers/browser.ts';
import { openChannel } from './helpers/channel.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

describe('notification channels', () => {
  let server: TestServer;
  let call: ReturnType<typeof api>;
  before(async () => {
    server = await startTestServer();
    call = api(server.url);
  });
  after(() => server.stop());

  const createChannel = async (token: string) => {
    const r = await call('POST', '/api/v2/notifications/channels', token);
    assert.equal(r.status, 200);
    assert.match(r.body.connectUri, /^ws:\/\/127\.0\.0\.1:\d+\/notifications\/channels\//);
    return r.body.id as string;
  };

  test('at most 20 channels per token: a 21st removes the oldest inactive one, else the oldest (socket_closing, then 4002)', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const connected = [];
    for (let i = 0; i < 20; i++) connected.push(await openChannel(server.url, token));

    const newest = await createChannel(token);
    const oldest = connected[0]!;
    const closing = await oldest.next((m) => m.topicName === 'v2.system.socket_closing');
    assert.equal(closing.eventBody.reason, 'channel_limit');
    assert.equal((await oldest.closed).code, 4002, 'all 20 were connected: the oldest went');
    let ids = (await call('GET', '/api/v2/notifications/channels', token)).body.entities.map((c: any) => c.id);
    assert.equal(ids.length, 20);
    assert.ok(!ids.includes(oldest.id) && ids.includes(newest));

    await createChannel(token);
    ids = (await call('GET', '/api/v2/notifications/channels', token)).body.entities.map((c: any) => c.id);
    assert.equal(ids.length, 20);
    assert.ok(!ids.includes(newest), 'the channel nobody connected to went before any connected one');
    assert.ok(connected.slice(1).every((c) => ids.includes(c.id)));
    for (const c of connected) c.ws.close();
  });

  test('subscriptions: put, add, list, delete; unknown topics and unknown users are 404; another token cannot touch the channel', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    const me = (await call('GET', '/api/v2/tokens/me', token)).body.user.id;
    const id = await createChannel(token);
    const path = `/api/v2/notifications/channels/${id}/subscriptions`;

    assert.deepEqual((await call('PUT', path, token, [{ id: `v2.users.${me}.presence` }])).body.entities, [{ id: `v2.users.${me}.presence`, state: 'Permitted' }]);
    const added = await call('POST', path, token, [{ id: `v2.users.${me}.routingstatus` }]);
    assert.deepEqual(added.body.entities.map((t: any) => t.id).sort(), [`v2.users.${me}.presence`, `v2.users.${me}.routingstatus`]);
    assert.equal((await call('GET', path, token)).body.entities.length, 2);
    const lenient = await call('POST', `${path}?ignoreErrors=true`, token, [{ id: 'v2.users.x.calendar' }, { id: `v2.users.${me}.presence` }]);
    assert.equal(lenient.status, 200, 'ignoreErrors: the call succeeds and says which topic was rejected');
    assert.deepEqual(lenient.body.entities.find((t: any) => t.id === 'v2.users.x.calendar'), {
      id: 'v2.users.x.calendar', state: 'Rejected', rejectionReason: lenient.body.entities.find((t: any) => t.state === 'Rejected').rejectionReason,
    });
    assert.match(lenient.body.entities.find((t: any) => t.state === 'Rejected').rejectionReason, /Unknown topic/);
    assert.equal((await call('GET', path, token)).body.entities.length, 2, 'the rejected topic was not subscribed');
    assert.equal((await call('PUT', path, token, [{ id: 'v2.users.x.calendar' }])).status, 404);
    assert.equal((await call('GET', path, token)).body.entities.length, 2, 'a failed PUT leaves the subscriptions as they were');
    assert.equal((await call('PUT', path, token, [{ id: 'v2.users.no-such-user.presence' }])).status, 404);
    assert.equal((await call('GET', path, await automationToken(server.url, DEMO_SECRET))).status, 404, "a channel belongs to its token");
    assert.equal((await call('DELETE', path, token)).status, 204);
    assert.equal((await call('GET', path, token)).body.entities.length, 0);

    const admin = await automationToken(server.url, DEMO_SECRET);
    const adminChannel = await createChannel(admin);
    const r = await fetch(`${server.url}/api/v2/notifications/channels/${adminChannel}/subscriptions`, {
      method: 'PUT', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify([{ id: `v2.users.${me}.routingstatus` }]),
    });
    assert.equal(r.status, 200, "an admin may watch another user's topics");
  });
});
