/**
 * SIGTERM of the real CLI: every open channel is told (`v2.system.socket_closing`) and closed with 1001, so its
 * client reconnects; a request in flight at the signal is answered; a back-channel logout pending at the signal
 * (its receiver down) is delivered after the restart; and the channel reconnects to the restarted server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { api } from './helpers/api.ts';
import { BackchannelReceiver } from './helpers/backchannel-receiver.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { openChannel } from './helpers/channel.ts';
import { killRunningClis, startCli, stopCli, withTimeout } from './helpers/cli.ts';
import { freePort } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';
import { DEMO_PASSWORD, DEMO_SECRET } from './helpers/test-server.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-shutdown-'));
const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
/** The same port before and after the restart: the issuer (and so the logout token's `iss`) stays the same. */
const port = String(await freePort());
const startDemo = () => startCli({
  dataDir, env: { PORT: port, LOCKSTEP_DEMO_CRM_PORT: 'off', LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET },
});


/** A token request whose body is only half sent: the server holds it in flight until `finish()` sends the rest. */
function halfSentTokenRequest(baseUrl: string) {
  const { hostname, port } = new URL(baseUrl);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'automation', client_secret: DEMO_SECRET }).toString();
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  const sent = new Promise<void>((resolve) => socket.once('connect', () => {
    socket.write(`POST /oauth/token HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n`
      + `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`, () => resolve());
  }));
  return { sent, finish: () => socket.write(body.slice(10)), ended };
}

after(() => {
  killRunningClis();
  rmSync(dataDir, { recursive: true, force: true });
});

test('SIGTERM: channels get socket_closing and 1001, a request in flight is answered, a pending back-channel logout goes out after the restart', async () => {
  const receiver = new BackchannelReceiver({ answer: 'unavailable' });
  await receiver.up();
  let cli = await startDemo();
  try {
    const call = api(cli.url);
    const admin = await automationToken(cli.url, DEMO_SECRET);
    const c = (await call('GET', '/api/v2/oauth/clients/crm-backend', admin)).body;
    const put = await call('PUT', '/api/v2/oauth/clients/crm-backend', admin, {
      name: c.name, type: c.type, redirectUris: c.redirectUris, grantTypes: c.grantTypes,
      postLogoutRedirectUris: c.postLogoutRedirectUris, backchannelLogoutUri: receiver.url, roles: c.roles, loopbackAnyPort: c.loopbackAnyPort,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    // The agent in two clients: crm-backend (whose logout the receiver refuses with 503 for now) and agent-desktop (two open channels).
    const browser = new Browser();
    const backend = (await signIn(cli.url, browser, { clientId: 'crm-backend', clientSecret: DEMO_SECRET }, agent)).tokens;
    const desktop = (await signIn(cli.url, browser, { clientId: 'agent-desktop' }, agent)).tokens;
    const channels = [await openChannel(cli.url, desktop.access_token), await openChannel(cli.url, desktop.access_token)];
    assert.equal((await call('DELETE', '/api/v2/tokens/me', backend.access_token)).status, 204);
    await waitFor('the first back-channel attempt, refused with 503', 30_000, () => receiver.hits.some((h) => h.status === 503));

    receiver.issuer = cli.url;
    const inFlight = halfSentTokenRequest(cli.url);
    await inFlight.sent;
    cli.child.kill('SIGTERM');
    for (const channel of channels) {
      const closing = await channel.next((m) => m.topicName === 'v2.system.socket_closing', 10_000);
      assert.equal(closing.eventBody.reason, 'server_shutdown');
      assert.equal((await withTimeout(channel.closed, 10_000, 'the channel to close')).code, 1001, 'going away: reconnect');
    }
    inFlight.finish();
    const answer = await withTimeout(inFlight.ended, 10_000, 'the in-flight request to be answered');
    assert.match(answer, /^HTTP\/1\.1 200 /, `the request in flight at SIGTERM is answered: ${answer.slice(0, 200)}`);
    assert.match(answer, /"access_token":"/);
    const { code, signal } = await withTimeout(cli.exited, 15_000, 'exit after SIGTERM');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, cli.stderr());
    assert.equal(receiver.received.length, 0, 'nothing was delivered before the restart');

    receiver.answer = 'ok';
    cli = await startDemo();
    receiver.issuer = cli.url;
    await waitFor('the pending back-channel logout, delivered after the restart', 30_000, () => receiver.received.length > 0);
    assert.deepEqual(receiver.rejected, [], 'the logout token is valid');
    assert.equal(receiver.actions.length, 1);
    assert.equal(receiver.actions[0]!.sid, JSON.parse(Buffer.from(backend.id_token!.split('.')[1]!, 'base64url').toString()).sid);

    // The channel outlives the restart: its connectUri connects again, and a logout of its token reaches it there.
    const ws = new WebSocket(channels[0]!.ws.url);
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(String(d)));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop.access_token)).status, 204);
    assert.equal(await withTimeout(closed, 10_000, 'the reconnected channel to close'), 4001, `closed as revoked, not unknown: ${messages.join()}`);
    assert.ok(messages.some((m) => JSON.parse(m).topicName === 'v2.system.token_revoked'));
  } finally {
    await stopCli(cli).catch(() => {});
    await receiver.down();
  }
});
