import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { authorizeOutcome, automationToken, Browser, signIn } from './helpers/browser.ts';
import { isTokenRevoked, openChannel } from './helpers/channel.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';
import { presenceDefinitionId } from '../src/core/presence-definitions.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

describe('universal logout', () => {
  let server: TestServer;
  let call: ReturnType<typeof api>;
  /** crm-backend's back-channel logout endpoint: keeps the raw logout tokens; the test verifies them itself. */
  const receiver = new BackchannelReceiver({ verify: false });
  const admin = () => automationToken(server.url, DEMO_SECRET);
  const head = async (token: string) => (await call('HEAD', '/api/v2/tokens/me', token)).status;
  const setUniversal = async (on: boolean) => {
    const r = await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: on });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.universalLogout, on);
  };

  before(async () => {
    server = await startTestServer();
    call = api(server.url);
    await receiver.up();
    const adminToken = await admin();
    const crmBackend = (await call('GET', '/api/v2/oauth/clients/crm-backend', adminToken)).body;
    const { id, createdAt, ...body } = crmBackend;
    const put = await call('PUT', '/api/v2/oauth/clients/crm-backend', adminToken, { ...body, backchannelLogoutUri: receiver.url });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  });
  after(async () => {
    await receiver.down();
    await server.stop();
  });

  test('off by default: a logout ends only that client; the other token stays live and its channel hears nothing', async () => {
    assert.equal((await call('GET', '/api/v2/organizations/authentication/settings', await admin())).body.universalLogout, false);
    const browser = new Browser();
    const desktop = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const crm = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    const crmChannel = await openChannel(server.url, crm);
    const desktopChannel = await openChannel(server.url, desktop);

    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop)).status, 204);
    assert.equal(await head(desktop), 401);
    assert.equal(await head(crm), 200);
    const own = await desktopChannel.next(isTokenRevoked);
    assert.equal(own.eventBody.reason, 'logout', "the logging-out client's own channel is told too");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(crmChannel.messages.filter(isTokenRevoked).length, 0);
    assert.equal(crmChannel.ws.readyState, crmChannel.ws.OPEN);
    assert.equal(await authorizeOutcome(server.url, browser, 'agent-desktop'), 'code', 'the sign-in session stays');
    crmChannel.ws.close();
  });

  test('on: one logout ends every client at once, pushes token_revoked, ends the sign-in session and tells crm-backend', async () => {
    await setUniversal(true);
    const browser = new Browser();
    const desktop = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const crm = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    const backend = await signIn(server.url, browser, { clientId: 'crm-backend', clientSecret: DEMO_SECRET }, agent);
    const crmChannel = await openChannel(server.url, crm);
    const before = receiver.tokens.length;

    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop)).status, 204);
    assert.equal(await head(crm), 401, 'the CRM token is dead the moment the logout returned');
    assert.equal(await head(backend.tokens.access_token), 401);

    const event = await crmChannel.next(isTokenRevoked, 1000);
    assert.equal(event.eventBody.reason, 'universal_logout');
    assert.equal(event.eventBody.initiatingClientId, 'agent-desktop');
    assert.ok(!Number.isNaN(Date.parse(event.eventBody.at)));
    const closed = await crmChannel.closed;
    assert.equal(closed.code, 4001, 'closed with the do-not-reconnect code');

    assert.equal(await authorizeOutcome(server.url, browser, 'crm-embedded'), 'login_form', 'the browser sign-in session is gone');

    await server.authority.backchannel.drain();
    const deadline = Date.now() + 5000;
    while (receiver.tokens.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const backendSid = decodeJwt(backend.tokens.id_token!).sid;
    const logoutToken = receiver.tokens.slice(before).find((t) => decodeJwt(t).sid === backendSid)!;
    assert.ok(logoutToken, 'crm-backend received a logout token for its session');
    const { payload, protectedHeader } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(server.url + '/oauth/jwks')), {
      issuer: server.url, audience: 'crm-backend', typ: 'logout+jwt',
    });
    assert.equal(protectedHeader.typ, 'logout+jwt');
    for (const claim of ['iss', 'aud', 'iat', 'exp', 'jti', 'sub', 'sid', 'events'] as const) assert.ok(payload[claim] != null, `claim ${claim}`);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.equal(payload.nonce, undefined);
    assert.equal(payload.sub, decodeJwt(backend.tokens.id_token!).sub);
    assert.equal(payload.sid, decodeJwt(backend.tokens.id_token!).sid);

    const audit = (await call('GET', '/api/v2/audits?kind=universal_logout', await admin())).body.entities[0];
    assert.equal(audit.clientId, 'agent-desktop');
    assert.deepEqual([...audit.details.clients].sort(), ['agent-desktop', 'crm-backend', 'crm-embedded']);
    assert.ok(audit.details.signInSessionIds.length >= 1);
    assert.equal(audit.details.backchannelLogouts[0].clientId, 'crm-backend');
    await setUniversal(false);
  });

  test('the end-session endpoint is universal too when the setting is on; RFC 7009 revocation stays single-token', async () => {
    await setUniversal(true);
    const browser = new Browser();
    const desktop = await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    const crm = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;

    const revoke = await fetch(server.url + '/oauth/revoke', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: crm, client_id: 'crm-embedded' }),
    });
    assert.equal(revoke.status, 200);
    assert.equal(await head(crm), 401);
    assert.equal(await head(desktop.tokens.access_token), 200, 'revocation is not a logout');

    const crm2 = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    const channel = await openChannel(server.url, crm2);
    const url = `${server.url}/oauth/logout?id_token_hint=${desktop.tokens.id_token}&post_logout_redirect_uri=${encodeURIComponent(`${server.url}/demo/agent`)}`;
    const res = await browser.fetch(url);
    assert.equal(res.status, 303);
    assert.equal((await channel.next(isTokenRevoked)).eventBody.reason, 'universal_logout');
    assert.equal(await head(crm2), 401);
    await setUniversal(false);
  });

  test('every change of the setting is audited', async () => {
    const audits = (await call('GET', '/api/v2/audits?kind=settings_changed', await admin())).body.entities;
    const universal = audits.filter((e: any) => e.details.setting === 'universal_logout');
    assert.ok(universal.length >= 4);
    assert.equal(universal[0].details.after.universalLogout, false);
    assert.equal(universal[1].details.after.universalLogout, true);
  });
});

describe('channels and the idle timeout (injected clock)', () => {
  let server: TestServer;
  let clock: ManualClock;
  before(async () => {
    clock = new ManualClock(Date.now());
    server = await startTestServer({ clock });
    const r = await api(server.url)('PUT', '/api/v2/tokens/timeout', await automationToken(server.url, DEMO_SECRET), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 300 });
    assert.equal(r.status, 200);
  });
  after(() => server.stop());

  test('heartbeats and pings on a channel do not keep its token alive; the idle timeout closes it with reason idle_timeout', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    const channel = await openChannel(server.url, token);
    for (let i = 0; i < 9; i++) {
      clock.advance(30_000);
      server.authority.hub.heartbeat();
      channel.ws.send(JSON.stringify({ message: 'ping' }));
      await channel.next((m) => m.eventBody.message === 'pong' && channel.messages.filter((x) => x.eventBody.message === 'pong').length > i);
      await server.authority.ledger.sweep();
    }
    assert.ok(channel.messages.some((m) => m.topicName === 'channel.metadata' && m.eventBody.message === 'WebSocket Heartbeat'));
    assert.equal(channel.messages.filter(isTokenRevoked).length, 0, '4.5 minutes: still alive');

    clock.advance(30_000);
    await server.authority.ledger.sweep();
    const event = await channel.next(isTokenRevoked);
    assert.equal(event.eventBody.reason, 'idle_timeout');
    assert.equal(event.eventBody.initiatingClientId, undefined);
    assert.equal((await channel.closed).code, 4001);
    assert.equal((await fetch(server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status, 401);
  });

  test('a heartbeat that finds a token past its idle deadline before the expirer ran says idle_timeout, not plain expiry', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'crm-embedded', clockSkewSeconds: (clock.now() - Date.now()) / 1000 }, agent)).tokens.access_token;
    const channel = await openChannel(server.url, token);
    clock.advance(5 * 60_000);
    server.authority.hub.heartbeat(); // no sweep yet: the token is idle but not revoked
    const event = await channel.next(isTokenRevoked);
    assert.equal(event.eventBody.reason, 'idle_timeout');
    assert.equal((await channel.closed).code, 4001);
    await server.authority.ledger.sweep();
  });

  test('a client that connects after its token ended is told why and closed; an unknown channel is closed with 4004', async () => {
    const token = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: (clock.now() - Date.now()) / 1000 }, agent)).tokens.access_token;
    const res = await fetch(server.url + '/api/v2/notifications/channels', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const { connectUri } = await res.json();
    assert.equal((await api(server.url)('DELETE', '/api/v2/tokens/me', token)).status, 204);
    const { default: WebSocket } = await import('ws');
    const late = new WebSocket(connectUri);
    const messages: any[] = [];
    late.on('message', (d) => messages.push(JSON.parse(String(d))));
    const [code] = await once(late, 'close');
    assert.equal(code, 4001);
    assert.equal(messages[0]?.topicName, 'v2.system.token_revoked');

    const unknown = new WebSocket(connectUri.replace(/[^/]+$/, 'no-such-channel'));
    assert.equal((await once(unknown, 'close'))[0], 4004);
  });

  test('subscriptions: own presence topic allowed, another user needs admin; presence changes are pushed', async () => {
    const call = api(server.url);
    const token = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: (clock.now() - Date.now()) / 1000 }, agent)).tokens.access_token;
    const me = (await call('GET', '/api/v2/tokens/me', token)).body.user.id;
    const users = (await call('GET', '/api/v2/users', await automationToken(server.url, DEMO_SECRET))).body.entities;
    const other = users.find((u: any) => u.email === 'agent2@demo.test').id;
    const channel = await openChannel(server.url, token, [`v2.users.${me}.presence`]);
    const refused = await fetch(`${server.url}/api/v2/notifications/channels/${channel.id}/subscriptions`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ id: `v2.users.${other}.presence` }]),
    });
    assert.equal(refused.status, 403);
    await call('PATCH', `/api/v2/users/${me}/presences/purecloud`, token, { presenceDefinition: { id: presenceDefinitionId('Break') } });
    const pushed = await channel.next((m) => m.topicName === `v2.users.${me}.presence`);
    assert.deepEqual(pushed.eventBody.presenceDefinition, { id: presenceDefinitionId('Break'), systemPresence: 'Break' });
    assert.equal(pushed.eventBody.source, 'PURECLOUD');
    channel.ws.close();
  });
});
