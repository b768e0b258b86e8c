import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/core/clock.ts';
import { api } from './helpers/api.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const MIN = 60_000;
const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const IDLE = 'lockstep-idle-expires';

/**
 * The server tells clients the idle facts so they need not re-implement the idle policy:
 * `Lockstep-Idle-Expires` on every authenticated answer, and a stable code on every 401.
 */
describe('idle deadline header and 401 codes (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let server: TestServer;
  let call: ReturnType<typeof api>;
  const admin = () => automationToken(server.url, DEMO_SECRET);
  const login = async (clientId = 'desktop-app', browser = new Browser()) =>
    (await signIn(server.url, browser, { clientId, clockSkewSeconds: (clock.now() - Date.now()) / 1000 }, agent)).tokens.access_token;
  const request = (token: string, method: string, path: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}`, ...headers } });
  const deadlineOf = (res: Response) => {
    const value = res.headers.get(IDLE);
    return value == null ? null : Date.parse(value);
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await server.authority.ledger.sweep();
  };
  const setTimeoutSettings = async (body: Record<string, unknown>) =>
    assert.equal((await call('PUT', '/api/v2/tokens/timeout', await admin(), body)).status, 200);

  before(async () => {
    server = await startTestServer({ clock });
    call = api(server.url);
    await setTimeoutSettings({ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 300 });
    const excluded = await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { inactivityTimeoutExclusions: ['/api/v2/users/*/presences/*'] });
    assert.equal(excluded.status, 200, JSON.stringify(excluded.body));
  });
  after(() => server.stop());

  test('every authenticated answer names the deadline; activity moves it, a heartbeat, background polling and an excluded path do not', async () => {
    const token = await login();
    const first = await request(token, 'GET', '/api/v2/tokens/me');
    const info = await first.json();
    assert.equal(deadlineOf(first), clock.now() + 5 * MIN);
    assert.equal(deadlineOf(first), Date.parse(info.dateTokenIdles), 'the header and the token info agree');
    const start = clock.now();

    await advance(MIN);
    const still = start + 5 * MIN;
    assert.equal(deadlineOf(await request(token, 'HEAD', '/api/v2/tokens/me?preserveIdleTTL=true')), still, 'HEAD heartbeat with preserveIdleTTL');
    assert.equal(deadlineOf(await request(token, 'GET', '/api/v2/tokens/me?preserveIdleTTL=true')), still);
    assert.equal(deadlineOf(await request(token, 'GET', '/api/v2/tokens/me', { 'lockstep-activity': 'background' })), still, 'background call');
    assert.equal(deadlineOf(await request(token, 'GET', `/api/v2/users/${info.user.id}/presences/purecloud`)), still, 'excluded path');
    const counted = await request(token, 'HEAD', '/api/v2/tokens/me');
    assert.equal(counted.status, 200);
    assert.equal(deadlineOf(counted), clock.now() + 5 * MIN, 'a plain HEAD is activity and moves the deadline');
  });

  test('a heartbeat alone does not keep a token alive: it idles out on time', async () => {
    const token = await login();
    const deadline = deadlineOf(await request(token, 'GET', '/api/v2/tokens/me?preserveIdleTTL=true'))!;
    for (let i = 0; i < 4; i++) {
      await advance(MIN);
      assert.equal((await request(token, 'HEAD', '/api/v2/tokens/me?preserveIdleTTL=true')).status, 200);
    }
    await advance(deadline - clock.now());
    const dead = await request(token, 'HEAD', '/api/v2/tokens/me?preserveIdleTTL=true');
    assert.equal(dead.status, 401);
    assert.equal(dead.headers.get(IDLE), null, 'a refused token has no deadline');
    assert.match(dead.headers.get('www-authenticate')!, /code="token\.idle_timeout"/, 'HEAD has no body: the code is in the challenge');
    const body = await (await request(token, 'GET', '/api/v2/tokens/me')).json();
    assert.equal(body.code, 'token.idle_timeout');
    assert.equal(body.reason, undefined);
  });

  test('without an idle timeout the header is absent', async () => {
    await setTimeoutSettings({ enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 300 });
    try {
      const token = await login();
      const res = await request(token, 'GET', '/api/v2/tokens/me');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get(IDLE), null);
      assert.equal((await res.json()).dateTokenIdles, undefined, 'no idle deadline: the token info has no dateTokenIdles');
    } finally {
      await setTimeoutSettings({ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 300 });
    }
  });

  test('each refusal has its code, revocations their reason, in the body and in WWW-Authenticate', async () => {
    const expectCode = async (token: string, code: string, reason?: string) => {
      const res = await request(token, 'GET', '/api/v2/tokens/me');
      const body = await res.json();
      assert.equal(res.status, 401);
      assert.equal(body.code, code, JSON.stringify(body));
      assert.equal(body.reason, reason);
      const challenge = res.headers.get('www-authenticate')!;
      assert.match(challenge, new RegExp(`code="${code.replace('.', '\\.')}"`));
      if (reason) assert.match(challenge, new RegExp(`reason="${reason}"`));
      const head = await request(token, 'HEAD', '/api/v2/tokens/me');
      assert.equal(head.headers.get('www-authenticate'), challenge, 'HEAD carries the same challenge');
    };

    const loggedOut = await login();
    assert.equal((await request(loggedOut, 'DELETE', '/api/v2/tokens/me')).status, 204);
    await expectCode(loggedOut, 'token.revoked', 'logout');

    const browser = new Browser();
    const desktop = await login('agent-desktop', browser);
    const crm = await login('crm-embedded', browser);
    assert.equal((await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: true })).status, 200);
    assert.equal((await request(desktop, 'DELETE', '/api/v2/tokens/me')).status, 204);
    await expectCode(crm, 'token.revoked', 'universal_logout');
    assert.equal((await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: false })).status, 200);

    const loggedOff = await login();
    const userId = (await (await request(loggedOff, 'GET', '/api/v2/tokens/me')).json()).user.id;
    assert.equal((await call('DELETE', `/api/v2/tokens/${userId}`, await admin())).status, 204);
    await expectCode(loggedOff, 'token.revoked', 'admin_logoff');

    await expectCode('lsat_never-issued', 'token.unknown');
    const missing = await fetch(server.url + '/api/v2/tokens/me');
    assert.equal((await missing.json()).code, 'token.missing');
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="lockstep", code="token.missing"');
    const malformed = await fetch(server.url + '/api/v2/tokens/me', { headers: { authorization: 'Basic YTpi' } });
    assert.equal((await malformed.json()).code, 'token.malformed');

    await setTimeoutSettings({ enableIdleTokenTimeout: false, idleTokenTimeoutSeconds: 300 });
    const old = await login();
    await advance(server.config.accessTokenTtlSeconds * 1000);
    await expectCode(old, 'token.expired');
  });
});
