// Three (and a fourth, killed) real `lockstep start` processes on one fresh PostgreSQL database and a private
// redis-server, behind a round-robin balancer that is the issuer. What one node answers, every node stands by.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { api } from './helpers/api.ts';
import { BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { Browser, signIn } from './helpers/browser.ts';
import { isTokenRevoked, type ChannelMessage } from './helpers/channel.ts';
import { killRunningClis } from './helpers/cli.ts';
import { startCluster, type Cluster, type Node } from './helpers/cluster.ts';
import {
  clusterProblem, freePort, freshPostgresDatabase, requireService, startRedisServer, stopRedisServer,
} from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';
import { DEMO_PASSWORD, DEMO_SECRET } from './helpers/test-server.ts';

const problem = await clusterProblem();


/** A client-credentials token of the demo `automation` client (admin role), issued by `node` itself. */
async function adminToken(node: Node): Promise<string> {
  const res = await fetch(`${node.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`automation:${DEMO_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Signs `email` in through the balancer once per client (one browser, so one sign-in session); their access tokens. */
async function signInTo(cluster: Cluster, email: string, clients: string[]): Promise<string[]> {
  const browser = new Browser();
  const tokens: string[] = [];
  for (const clientId of clients) tokens.push((await signIn(cluster.issuer, browser, { clientId }, { username: email, password: DEMO_PASSWORD })).tokens.access_token);
  return tokens;
}

const status = async (node: Node, token: string) => (await fetch(`${node.url}/api/v2/tokens/me`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status;

/** A channel created through `node` with its socket on `node` too (not through the balancer). */
async function channelOn(node: Node, token: string) {
  const created = await api(node.url)('POST', '/api/v2/notifications/channels', token);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const uri = new URL(created.body.connectUri);
  const ws = new WebSocket(`ws://127.0.0.1:${new URL(node.url).port}${uri.pathname}${uri.search}`);
  const messages: ChannelMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { messages, closed, ws };
}

describe('a cluster of three nodes', requireService('PostgreSQL and redis-server', problem), () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let redisPort: number;
  let redis: ChildProcess | undefined;
  let cluster: Cluster;
  let A: Node, B: Node, C: Node;

  before(async () => {
    db = await freshPostgresDatabase();
    redisPort = await freePort();
    redis = await startRedisServer(redisPort);
    cluster = await startCluster(['A', 'B', 'C'], { databaseUrl: db.url, redisUrl: `redis://127.0.0.1:${redisPort}` });
    [A, B, C] = cluster.nodes as [Node, Node, Node];
    const admin = await adminToken(A);
    assert.equal((await api(A.url)('PATCH', '/api/v2/organizations/authentication/settings', admin, { universalLogout: true })).status, 200);
  });
  after(async () => {
    await cluster?.stop();
    killRunningClis();
    await stopRedisServer(redis);
    await db?.drop();
  });

  test('a universal logout returned on A: no node accepts the tokens after; a channel on C hears it; a settings change through A is in force on B for the next request', async () => {
    const tokens = await signInTo(cluster, 'agent2@demo.test', ['agent-desktop', 'crm-embedded', 'desktop-app']);
    for (const node of cluster.nodes) for (const t of tokens) assert.equal(await status(node, t), 200, `${node.name} knows the token before`);
    const channel = await channelOn(C, tokens[2]!);

    // B is hammered with the user's tokens while A logs out.
    const answers: { sentAt: number; status: number }[] = [];
    let hammering = true;
    const hammer = Promise.all(Array.from({ length: 8 }, async (_, i) => {
      for (let n = i; hammering; n++) {
        const sentAt = Date.now();
        answers.push({ sentAt, status: await status(B, tokens[n % tokens.length]!) });
      }
    }));
    await waitFor('B has answered a few calls', 10_000, async () => answers.length >= 50);
    const logout = await api(A.url)('DELETE', '/api/v2/tokens/me', tokens[0]!);
    const returnedAt = Date.now();
    assert.equal(logout.status, 204);
    await sleep(200);
    hammering = false;
    await hammer;

    const after = answers.filter((a) => a.sentAt > returnedAt);
    assert.ok(after.length > 0, 'calls were made on B after the logout returned');
    assert.deepEqual(after.filter((a) => a.status === 200), [], 'no call sent after the return succeeded');
    assert.ok(answers.some((a) => a.sentAt < returnedAt && a.status === 200), 'B was serving the tokens before');
    for (const node of cluster.nodes) for (const t of tokens) assert.equal(await status(node, t), 401, `${node.name} refuses after`);

    await waitFor('C\'s channel hears token_revoked', 5_000, async () => channel.messages.find(isTokenRevoked));
    assert.equal(channel.messages.find(isTokenRevoked)!.eventBody.reason, 'universal_logout');
    assert.equal(await channel.closed, 4001);

    // Settings: the idle timeout set through A applies to B's next answer about a token B holds.
    const [fresh] = await signInTo(cluster, 'supervisor@demo.test', ['agent-desktop']);
    const me = (node: Node) => api(node.url)('GET', '/api/v2/tokens/me?preserveIdleTTL=true', fresh!);
    assert.equal((await me(B)).status, 200);
    const put = await api(A.url)('PUT', '/api/v2/tokens/timeout', await adminToken(A), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 7200 });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const idlesIn = Date.parse((await me(B)).body.dateTokenIdles) - Date.now();
    assert.ok(idlesIn > 7000_000 && idlesIn <= 7200_000, `B answers the new 2 h timeout at once (idles in ${idlesIn} ms)`);
  });

  test('a channel created through A, its socket on C, subscribed through B: a routing change through A reaches it', async () => {
    const [token] = await signInTo(cluster, 'supervisor@demo.test', ['desktop-app']);
    const me = (await api(B.url)('GET', '/api/v2/users/me', token!)).body.id;
    const created = await api(A.url)('POST', '/api/v2/notifications/channels', token!);
    assert.equal(created.status, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${new URL(C.url).port}${new URL(created.body.connectUri).pathname}`);
    const messages: ChannelMessage[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const topic = `v2.users.${me}.routingstatus`;
    const sub = await api(B.url)('PUT', `/api/v2/notifications/channels/${created.body.id}/subscriptions`, token!, [{ id: topic }]);
    assert.deepEqual(sub.body.entities, [{ id: topic, state: 'Permitted' }]);
    assert.deepEqual((await api(C.url)('GET', `/api/v2/notifications/channels/${created.body.id}/subscriptions`, token!)).body.entities, [{ id: topic, state: 'Permitted' }]);
    assert.equal((await api(A.url)('PUT', `/api/v2/users/${me}/routingstatus`, token!, { status: 'IDLE' })).status, 200);
    const event = await waitFor('the routing change reaches the socket on C', 5_000, async () => messages.find((m) => m.topicName === topic));
    assert.equal(event.eventBody.routingStatus.status, 'IDLE');
    for (const node of cluster.nodes) {
      const listed = await api(node.url)('GET', `/api/v2/users/${me}/tokens`, await adminToken(node));
      assert.ok(listed.body.entities.some((t: any) => t.clientId === 'desktop-app'), `the console through ${node.name} lists the token`);
    }
    ws.terminate();
  });

  test('a token used only through B stays live as A sees it; an unused one expires once, within a second of its deadline', async () => {
    const admin = await adminToken(A);
    assert.equal((await api(A.url)('PUT', '/api/v2/tokens/timeout', admin, { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 3 })).status, 200);
    const [used, unused] = await signInTo(cluster, 'agent@demo.test', ['agent-desktop', 'crm-embedded']);
    assert.equal(await status(A, used!), 200, 'A holds the used token too');
    const deadline = Date.parse((await api(A.url)('GET', '/api/v2/tokens/me?preserveIdleTTL=true', unused!)).body.dateTokenIdles);

    for (const until = Date.now() + 6_000; Date.now() < until; ) {
      assert.equal(await status(B, used!), 200, 'the used token, through B');
      await sleep(500);
    }
    assert.equal(await status(A, used!), 200, 'A: the token is live (activity through B counted)');

    // (The admin's own client-credentials token idles out too at 3 s: each call below gets a fresh one.)
    const entries = await waitFor('the unused token\'s idle expiry is audited', 5_000, async () => {
      const audits = await api(C.url)('GET', '/api/v2/audits?kind=idle_timeout', await adminToken(C));
      const mine = audits.body.entities.filter((e: any) => e.clientId === 'crm-embedded' && Date.parse(e.details.deadline) === deadline);
      return mine.length ? mine : undefined;
    });
    await sleep(1500); // every node's expirer has had its turn at the token
    const audits = await api(B.url)('GET', '/api/v2/audits?kind=idle_timeout', await adminToken(B));
    assert.equal(audits.body.entities.filter((e: any) => e.clientId === 'crm-embedded' && Date.parse(e.details.deadline) === deadline).length, 1, 'one audit entry');
    const lateness = Date.parse(entries[0].details.noticedAt) - deadline;
    assert.ok(lateness >= 0 && lateness <= 1000, `expired ${lateness} ms after its deadline`);
    for (const node of cluster.nodes) assert.equal(await status(node, unused!), 401);
    assert.equal((await api(A.url)('PUT', '/api/v2/tokens/timeout', await adminToken(A), { enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 3600 })).status, 200);
  });

  test('an interaction fed through B exempts the user\'s token A holds; its end through C restarts the idle clock everywhere', async () => {
    assert.equal((await api(A.url)('PUT', '/api/v2/tokens/timeout', await adminToken(A), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 2 })).status, 200);
    const [token] = await signInTo(cluster, 'agent@demo.test', ['desktop-app']);
    const me = (await api(A.url)('GET', '/api/v2/users/me', token!)).body.id;
    const feed = async (node: Node, state: string) => {
      const r = await api(node.url)('PUT', `/api/v2/users/${me}/interactions/call-1`, await adminToken(node), { type: 'voice', state });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.idleTimeoutExempt;
    };
    assert.equal(await feed(B, 'connected'), true);
    const idles = async (node: Node) => (await api(node.url)('GET', '/api/v2/tokens/me?preserveIdleTTL=true', token!)).body.dateTokenIdles;
    assert.equal(await idles(A), undefined, 'exempt as A sees it, at once');
    await sleep(3000);
    assert.equal(await status(A, token!), 200, 'no idle expiry while exempt, three seconds on');
    assert.equal(await feed(C, 'disconnected'), false);
    const deadline = Date.parse(await idles(A));
    assert.ok(deadline > Date.now() && deadline <= Date.now() + 2000, 'A times the token again at once');
    // Polled without counting as activity (preserveIdleTTL), or the polling would keep it alive.
    await waitFor('the token idles out on every node', 4_000, async () => {
      for (const node of cluster.nodes) if ((await api(node.url)('GET', '/api/v2/tokens/me?preserveIdleTTL=true', token!)).status !== 401) return false;
      return true;
    });
    assert.equal((await api(A.url)('PUT', '/api/v2/tokens/timeout', await adminToken(A), { enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 3600 })).status, 200);
  });

  test('Redis stopped: no node accepts a token revoked before or during the outage; Redis back: events flow again within five seconds', async () => {
    const [before] = await signInTo(cluster, 'supervisor@demo.test', ['crm-embedded']);
    const during = await signInTo(cluster, 'agent2@demo.test', ['agent-desktop', 'desktop-app']);
    for (const node of cluster.nodes) for (const t of [before!, ...during]) assert.equal(await status(node, t), 200);
    assert.equal((await api(B.url)('DELETE', '/api/v2/tokens/me', before!)).status, 204);

    await stopRedisServer(redis);
    const logout = await api(A.url)('DELETE', '/api/v2/tokens/me', during[0]!);
    assert.equal(logout.status, 204, 'a logout still returns (once the other nodes have caught up through the store)');
    for (const node of cluster.nodes) {
      for (const t of [before!, ...during]) assert.notEqual(await status(node, t), 200, `${node.name} during the outage`);
    }

    redis = await startRedisServer(redisPort);
    const back = Date.now();
    await waitFor('a logout on A reaches a channel on C again', 5_000, async () => {
      const [t] = await signInTo(cluster, 'agent@demo.test', ['desktop-app']);
      const channel = await channelOn(C, t!);
      assert.equal((await api(A.url)('DELETE', '/api/v2/tokens/me', t!)).status, 204);
      const heard = await Promise.race([channel.closed.then(() => channel.messages.some(isTokenRevoked)), sleep(500).then(() => false)]);
      channel.ws.terminate();
      return heard;
    });
    console.log(`events flow again ${Date.now() - back} ms after Redis came back`);
  });

  test('SIGKILL of a node in the middle of a universal logout: all or nothing; the others serve on; its tokens work elsewhere; its back-channel logout goes out once', async () => {
    const receiver = new BackchannelReceiver();
    receiver.issuer = cluster.issuer;
    await receiver.up();
    const admin = await adminToken(A);
    const crm = (await api(A.url)('GET', '/api/v2/oauth/clients/crm-backend', admin)).body;
    const put = await api(A.url)('PUT', '/api/v2/oauth/clients/crm-backend', admin, {
      name: crm.name, type: crm.type, redirectUris: crm.redirectUris, grantTypes: crm.grantTypes, postLogoutRedirectUris: crm.postLogoutRedirectUris,
      backchannelLogoutUri: receiver.url, roles: crm.roles, loopbackAnyPort: crm.loopbackAnyPort,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    const D = await cluster.addNode('D');
    const mintedOnD = await adminToken(D);
    const browser = new Browser();
    const agent = { username: 'agent2@demo.test', password: DEMO_PASSWORD };
    const tokens = [
      (await signIn(cluster.issuer, browser, { clientId: 'crm-backend', clientSecret: DEMO_SECRET }, agent)).tokens.access_token,
      (await signIn(cluster.issuer, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token,
    ];
    for (const t of tokens) assert.equal(await status(D, t), 200);

    const logout = fetch(`${D.url}/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens[1]}` } }).catch(() => null);
    await sleep(Math.random() * 40);
    await D.kill();
    await logout;

    // D's call never returned, so nobody was promised anything yet; what D committed reaches the others by their
    // next lease renewal (a second) at the latest. Then every node answers the same for every token: all or nothing.
    const agreed = async () => {
      const seen = new Set<number>();
      for (const node of [A, B, C]) for (const t of tokens) seen.add(await status(node, t));
      return seen.size === 1 && seen;
    };
    const seen = await waitFor('every node answers the same for every token', 3_000, agreed);
    if (seen.has(200)) {
      console.log('the node died before the logout committed: nothing ended; logging out through A');
      assert.equal((await api(A.url)('DELETE', '/api/v2/tokens/me', tokens[1]!)).status, 204);
    } else console.log('the node died after the logout committed');
    for (const node of [A, B, C]) for (const t of tokens) assert.equal(await status(node, t), 401);

    for (const node of [A, B]) assert.equal(await status(node, mintedOnD), 200, `a token issued through the dead node works on ${node.name}`);
    await waitFor('the back-channel logout arrives', 25_000, async () => receiver.received.length > 0);
    await sleep(1500);
    const jtis = receiver.received.map((p) => p.jti);
    assert.equal(jtis.length, new Set(jtis).size, `each logout token arrived once: ${jtis}`);
    await receiver.down();
  });
});

describe('nodes starting together on an empty database', requireService('PostgreSQL and redis-server', problem), () => {
  test('migrate once, make one signing key, seed the demo org once; each signs tokens the others accept', async () => {
    const db = await freshPostgresDatabase();
    const port = await freePort();
    const redis = await startRedisServer(port);
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster(['A', 'B', 'C'], { databaseUrl: db.url, redisUrl: `redis://127.0.0.1:${port}`, together: true });
      const jwks = await Promise.all(cluster.nodes.map(async (n) => JSON.stringify(await (await fetch(`${n.url}/oauth/jwks`)).json())));
      assert.equal(new Set(jwks).size, 1, 'one signing key');
      assert.equal(JSON.parse(jwks[0]!).keys.length, 1);
      const seeded = cluster.nodes.filter((n) => /Demo org seeded/.test(n.cli.stdout()));
      assert.equal(seeded.length, 1, 'one node seeded the demo org');
      for (const n of cluster.nodes) {
        const token = await adminToken(n);
        for (const other of cluster.nodes) assert.equal(await status(other, token), 200, `${n.name}'s token on ${other.name}`);
      }
      const [id] = await signInTo(cluster, 'agent@demo.test', ['agent-desktop']);
      assert.ok(id);
    } finally {
      await cluster?.stop();
      await stopRedisServer(redis);
      await db.drop();
    }
  });
});
