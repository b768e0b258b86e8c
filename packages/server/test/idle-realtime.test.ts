import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { api } from './helpers/api.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

// Real time, real timers: the expirer must notice a deadline nobody is asking about.
let server: TestServer;
before(async () => (server = await startTestServer({ env: { LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS: '1' } })));
after(() => server.stop());

test('with a 2-second timeout, an unused token expires about a second after its deadline at most; a token used every second lives', async () => {
  const call = api(server.url);
  const put = await call('PUT', '/api/v2/tokens/timeout', await automationToken(server.url, DEMO_SECRET), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 2 });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
  const browser = new Browser();
  const used = (await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
  const unused = (await signIn(server.url, browser, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
  const deadline = Date.parse((await call('GET', '/api/v2/tokens/me?preserveIdleTTL=true', unused)).body.dateTokenIdles);

  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    assert.equal((await call('HEAD', '/api/v2/tokens/me', used)).status, 200, `used token after ${i + 1} s`);
  }

  const audits = await call('GET', '/api/v2/audits?kind=idle_timeout', await automationToken(server.url, DEMO_SECRET));
  const expiry = audits.body.entities.find((e: any) => e.clientId === 'crm-embedded');
  assert.ok(expiry, 'the expirer recorded the unused token without anyone calling with it');
  assert.equal(Date.parse(expiry.details.deadline), deadline);
  const lateness = Date.parse(expiry.details.noticedAt) - deadline;
  assert.ok(lateness >= 0 && lateness <= 1000, `noticed ${lateness} ms after the deadline`);
  assert.equal((await call('HEAD', '/api/v2/tokens/me', unused)).status, 401);
});
