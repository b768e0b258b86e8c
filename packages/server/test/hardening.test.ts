/**
 * Findings of the security review (issue 10), one test each: each failed on the code before its fix.
 * Further findings have their own files: login-throttle.test.ts, backchannel-hardening.test.ts.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { after, before, describe, test } from 'node:test';
import { LIMITS } from '../src/core/limits.ts';
import { LIFETIMES } from '../src/core/lifetimes.ts';
import { compilePathPattern, pathParts } from '../src/core/path-pattern.ts';
import { RETENTION_GRACE_MS } from '../src/authority/retention.ts';
import { redirectUriMatches } from '../src/core/redirect-uri.ts';
import { logOptions } from '../src/log-options.ts';
import { api } from './helpers/api.ts';
import { authorizeCode, automationToken, Browser, exchangeCode, formFields, signIn } from './helpers/browser.ts';
import { ManualClock } from '../src/core/clock.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

/** A real server on an injected clock for one describe block: `s.server`, `s.call`, `s.clock`, `s.skew()` (for oauth4webapi). */
function serverPerSuite(env?: Record<string, string>) {
  const clock = new ManualClock(Date.now());
  const s = { clock, server: null as unknown as TestServer, call: null as unknown as ReturnType<typeof api>, skew: () => (clock.now() - Date.now()) / 1000 };
  before(async () => {
    s.server = await startTestServer({ clock, env });
    s.call = api(s.server.url);
  });
  after(() => s.server.stop());
  return s;
}

/** Sends one raw HTTP request and resolves with what came back once the server closed the connection; rejects if it does not within `ms`. */
function rawExchange(url: string, request: string, ms = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open ${ms} ms after answering: ${answer.split('\r\n', 1)[0]}`));
    }, ms);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(request);
  });
}

const upgrade = (path: string, host: string) =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

describe('hardening', () => {
  const s = serverPerSuite();

  test('an Upgrade: websocket request to a route that is not a live channel is answered and its connection closed', async () => {
    const host = new URL(s.server.url).host;
    for (const [path, status] of [
      ['/healthz', '200'], ['/no/such/route', '404'], ['/api/v2/tokens/me', '401'], [`/notifications/channels/${'x'.repeat(65)}`, '400'],
      [`/notifications/channels/${'a'.repeat(101)}`, '400'], ['/notifications/channels/%FF%FE', '400'], [`/api/v2/users/${'u'.repeat(101)}`, '400'],
    ] as const) {
      const answer = await rawExchange(s.server.url, upgrade(path, host));
      assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `), `${path}: answered over HTTP`);
    }
    assert.equal((await fetch(`${s.server.url}/healthz`)).status, 200, 'and the s.server still answers');
  });

  test('a request the HTTP parser refuses gets its status without a body, so a HEAD answer stays well framed', async () => {
    const host = new URL(s.server.url).host;
    const huge = `HEAD /api/v2/users/me HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${'x'.repeat(24_000)}\r\n\r\n`;
    for (const [request, status] of [[huge, '431 Request Header Fields Too Large'], ['HEAD /healthz HTTP/1.1\r\nHost: \u0001\u0002\r\nBad Header\r\n\r\n', '400 Bad Request']] as const) {
      const answer = await rawExchange(s.server.url, request);
      assert.ok(answer.startsWith(`HTTP/1.1 ${status}\r\n`), answer.slice(0, 80));
      assert.match(answer, /\r\ncontent-length: 0\r\n/i);
      assert.ok(answer.endsWith('\r\n\r\n'), `nothing after the headers: ${JSON.stringify(answer.slice(answer.indexOf('\r\n\r\n') + 4))}`);
    }
  });

  test('excluded-path patterns match in linear time: a pattern with many stars does not stall the server', async () => {
    const admin = await automationToken(s.server.url, DEMO_SECRET);
    const stars = `/api/v2/groups/${'a*'.repeat(40)}b`;
    const saved = await s.call('PATCH', '/api/v2/organizations/authentication/settings', admin, { inactivityTimeoutExclusions: [stars] });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    try {
      const token = (await signIn(s.server.url, new Browser(), { clientId: 'desktop-app' }, agent)).tokens.access_token;
      // Against a backtracking regex this path takes longer than the universe has existed; the request is bounded here.
      const res = await fetch(`${s.server.url}/api/v2/groups/${'a'.repeat(3000)}c`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 400, 'the id is too long; the exclusion was evaluated first, on every API call of the org');
    } finally {
      await s.call('PATCH', '/api/v2/organizations/authentication/settings', admin, { inactivityTimeoutExclusions: [] });
    }
  });

  test('grant_type names of Object.prototype are unknown grants (400), not a 500 or a 200', async () => {
    for (const grantType of ['constructor', '__proto__', 'valueOf', 'toString', 'hasOwnProperty']) {
      const res = await fetch(`${s.server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`automation:${DEMO_SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: grantType }),
      });
      assert.equal(res.status, 400, grantType);
      assert.equal((await res.json()).error, 'unsupported_grant_type', grantType);
    }
  });
});

describe('an authorization code minted before a logoff is refused after it', () => {
  const s = serverPerSuite({ LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS: '30' });
  const admin = () => automationToken(s.server.url, DEMO_SECRET);

  /** A signed-in agent (one token, from desktop-app) and a code for crm-embedded from the same sign-in, not exchanged yet. */
  async function pendingCode() {
    const browser = new Browser();
    const { tokens } = await signIn(s.server.url, browser, { clientId: 'desktop-app', clockSkewSeconds: s.skew() }, agent);
    const step = await authorizeCode(s.server.url, browser, { clientId: 'crm-embedded', clockSkewSeconds: s.skew() });
    assert.equal(step.passwordPrompted, false, 'the code comes from the same sign-in session');
    return { token: tokens.access_token, step };
  }
  const refusedAsEnded = async (step: Awaited<ReturnType<typeof pendingCode>>['step']) =>
    assert.rejects(exchangeCode(step), (err: any) => err.error === 'invalid_grant' && /sign-in session has ended/.test(err.error_description));

  test('administrative logoff', async () => {
    const { token, step } = await pendingCode();
    const userId = (await s.call('GET', '/api/v2/tokens/me', token)).body.user.id;
    assert.equal((await s.call('DELETE', `/api/v2/tokens/${userId}`, await admin())).status, 204);
    await refusedAsEnded(step);
  });

  test('universal logout', async () => {
    assert.equal((await s.call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: true })).status, 200);
    try {
      const { token, step } = await pendingCode();
      assert.equal((await s.call('DELETE', '/api/v2/tokens/me', token)).status, 204);
      await refusedAsEnded(step);
    } finally {
      await s.call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: false });
    }
  });

  test('idle timeout of the last token of the sign-in', async () => {
    assert.equal((await s.call('PUT', '/api/v2/tokens/timeout', await admin(), { enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 30 })).status, 200);
    try {
      const { step } = await pendingCode();
      s.clock.advance(31_000); // the code (60 s) still valid, the token idle: the exchange sweeps first
      await refusedAsEnded(step);
    } finally {
      await s.call('PUT', '/api/v2/tokens/timeout', await admin(), { enableIdleTokenTimeout: false });
    }
  });

  test('a plain logout of one client leaves the sign-in session: its code still works', async () => {
    const { token, step } = await pendingCode();
    const second = (await signIn(s.server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: s.skew() }, agent)).tokens.access_token;
    assert.equal((await s.call('DELETE', '/api/v2/tokens/me', second)).status, 204, 'another sign-in logs out');
    const tokens = await exchangeCode(step);
    assert.ok(tokens.access_token);
    assert.equal((await s.call('HEAD', '/api/v2/tokens/me', token)).status, 200);
  });
});

describe('RP-initiated logout refuses what does not prove the client asks', () => {
  const s = serverPerSuite();
  const live = async (token: string) => (await s.call('HEAD', '/api/v2/tokens/me', token)).status === 200;
  const signedIn = async (browser = new Browser()) => {
    const { tokens } = await signIn(s.server.url, browser, { clientId: 'agent-desktop', clockSkewSeconds: s.skew() }, agent);
    return { browser, token: tokens.access_token, idToken: tokens.id_token! };
  };
  const logoutUrl = (params: Record<string, string>) => `${s.server.url}/oauth/logout?${new URLSearchParams(params)}`;

  test('a back-channel logout token (typ logout+jwt) is no id_token_hint', async () => {
    const { token, idToken } = await signedIn();
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString());
    const logoutToken = await s.server.authority.keys.sign({
      iss: claims.iss, aud: claims.aud, sub: claims.sub, sid: claims.sid, iat: claims.iat, jti: 'j1',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    }, 'logout+jwt');
    const res = await fetch(logoutUrl({ id_token_hint: logoutToken }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.ok(await live(token), 'nothing was signed out');
  });

  test('an expired id_token_hint without the browser session ends nothing', async () => {
    const { token, idToken } = await signedIn();
    s.clock.advance(3600_000 + 1000);
    assert.ok(await live(token), 'used after an hour, the access token lives on (no idle timeout here)');
    const res = await fetch(logoutUrl({ id_token_hint: idToken }), { redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.ok(await live(token), 'an old ID token alone, which may have leaked, logs nobody out');
  });

  test('a fresh id_token_hint without the browser session ends that sign-in (third-party frames have no cookie)', async () => {
    const { token, idToken } = await signedIn();
    assert.equal((await fetch(logoutUrl({ id_token_hint: idToken }), { redirect: 'manual' })).status, 200);
    assert.equal(await live(token), false);
  });

  test('a cross-site GET with only the cookie asks the user first; the confirmed POST signs out, a forged one does not', async () => {
    const { browser, token } = await signedIn();
    const crossSite = { 'sec-fetch-site': 'cross-site' };
    const asked = await browser.fetch(logoutUrl({ client_id: 'agent-desktop' }), { headers: crossSite });
    assert.equal(asked.status, 200);
    const page = await asked.text();
    assert.match(page, /Sign out\?/);
    assert.ok(await live(token), 'asking signs nobody out');

    const forged = await browser.fetch(`${s.server.url}/oauth/logout`, {
      method: 'POST', headers: { ...crossSite, 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=guess',
    });
    assert.equal(forged.status, 400);
    assert.ok(await live(token), 'a form posted from another site without the proof signs nobody out');

    const fields = formFields(page);
    assert.ok(fields.confirm, 'the page carries its proof');
    const confirmed = await browser.fetch(`${s.server.url}/oauth/logout`, {
      method: 'POST', headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields),
    });
    assert.equal(confirmed.status, 200);
    assert.equal(await live(token), false, 'the user confirmed on the page: signed out');
  });

  test('the same GET from the server\'s own pages, or typed in, signs out at once', async () => {
    const { browser, token } = await signedIn();
    assert.equal((await browser.fetch(logoutUrl({ client_id: 'agent-desktop' }), { headers: { 'sec-fetch-site': 'same-origin' } })).status, 200);
    assert.equal(await live(token), false);
  });
});

describe('credentials that outlive what they stood for', () => {
  const s = serverPerSuite();
  const live = async (token: string) => (await s.call('HEAD', '/api/v2/tokens/me', token)).status === 200;

  test('a code used twice: the second use is refused and the tokens of the first are revoked (RFC 6749 §4.1.2)', async () => {
    const step = await authorizeCode(s.server.url, new Browser(), { clientId: 'desktop-app' }, agent);
    const first = await exchangeCode(step);
    assert.ok(await live(first.access_token));
    await assert.rejects(exchangeCode(step), (err: any) => err.error === 'invalid_grant');
    assert.equal(await live(first.access_token), false, 'the first use was not necessarily the client: its token is gone');
  });

  test('an admin resetting a password ends every token of the user', async () => {
    const token = (await signIn(s.server.url, new Browser(), { clientId: 'desktop-app' }, { username: 'agent2@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
    const userId = (await s.call('GET', '/api/v2/tokens/me', token)).body.user.id;
    const reset = await s.call('PATCH', `/api/v2/users/${userId}`, await automationToken(s.server.url, DEMO_SECRET), { password: DEMO_PASSWORD });
    assert.equal(reset.status, 200);
    assert.equal(await live(token), false);
    const name = await s.call('PATCH', `/api/v2/users/${userId}`, await automationToken(s.server.url, DEMO_SECRET), { name: 'Blake A.' });
    assert.equal(name.status, 200, 'a change without a password ends nothing');
  });

  test("a client's secret can be rotated: the new one works, the old one no longer does", async () => {
    const admin = await automationToken(s.server.url, DEMO_SECRET);
    const rotated = await s.call('POST', '/api/v2/oauth/clients/crm-backend/secret', admin);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.match(rotated.body.secret, /.{20,}/);
    const grant = (secret: string) => fetch(`${s.server.url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`crm-backend:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'lsrt_none' }),
    });
    assert.equal((await grant(DEMO_SECRET)).status, 401, 'the old secret is refused');
    assert.equal((await grant(rotated.body.secret)).status, 400, 'the new one authenticates (the refresh token itself is bogus)');
    assert.equal((await s.call('POST', '/api/v2/oauth/clients/desktop-app/secret', admin)).status, 400, 'a public client has none');
    assert.equal((await s.call('GET', '/api/v2/oauth/clients/crm-backend', admin)).body.secret, undefined, 'never shown again');
  });

  test('pages carry security headers; the embeddable demo widget allows only its CRM host; the API answers stay lean', async () => {
    for (const path of ['/admin', '/oauth/logout']) {
      const res = await fetch(s.server.url + path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', path);
    }
    const admin = await fetch(`${s.server.url}/admin`);
    assert.match(admin.headers.get('content-security-policy')!, /frame-ancestors 'self'/);
    assert.equal(admin.headers.get('x-frame-options'), 'SAMEORIGIN');
    const widget = await fetch(`${s.server.url}/demo/embedded`);
    assert.equal(widget.headers.get('x-frame-options'), null);
    assert.match(widget.headers.get('content-security-policy')!, new RegExp(`frame-ancestors 'self' ${s.server.crmUrl ? new URL(s.server.crmUrl).origin : ''}`));
    const login = await fetch(`${s.server.url}/oauth/authorize?${new URLSearchParams({ client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:9/callback', response_type: 'code', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`);
    assert.equal(login.status, 200);
    assert.match(login.headers.get('content-security-policy')!, /frame-ancestors 'self'/, 'the login form is not framed by other sites');
    assert.equal(login.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`${s.server.url}/.well-known/openid-configuration`)).headers.get('content-security-policy'), null);
  });

  test('the data directory and the database (which hold the signing key) are the owner\'s only', () => {
    assert.equal(statSync(s.server.dataDir).mode & 0o777, 0o700);
    for (const name of ['lockstep.sqlite', 'lockstep.sqlite-wal']) assert.equal(statSync(join(s.server.dataDir, name)).mode & 0o777, 0o600, name);
  });

  test('each demo user has a salt of its own', async () => {
    const hashes = (await s.server.authority.store.listUsers('demo')).map((u) => u.passwordHash);
    assert.equal(new Set(hashes).size, hashes.length);
  });
});

describe('log lines', () => {
  test('request URLs are logged without codes, hints, tokens or secrets, at debug level too', () => {
    let out = '';
    const log = pino(logOptions('debug'), new Writable({ write: (chunk, _enc, done) => ((out += chunk), done()) }));
    log.debug({ req: { method: 'GET', url: '/oauth/logout?id_token_hint=eyJSECRET&state=s1&client_id=c' } }, 'incoming request');
    log.debug({ req: { method: 'GET', url: '/demo/callback?code=CODESECRET&state=s2' } }, 'incoming request');
    assert.doesNotMatch(out, /SECRET/);
    assert.match(out, /state=s1/);
    assert.match(out, /client_id=c/);
  });
});

describe('loopback redirect URIs', () => {
  const registered = ['http://127.0.0.1/callback'];
  test('any port only for a client that chose it (native apps)', () => {
    assert.equal(redirectUriMatches(registered, 'http://127.0.0.1:5173/callback', true), true);
    assert.equal(redirectUriMatches(registered, 'http://127.0.0.1:5173/callback', false), false);
    assert.equal(redirectUriMatches(registered, 'http://127.0.0.1/callback', false), true, 'the exact URI always');
  });
  test('only the canonical spelling: no fragment, no numeric or hex tricks', () => {
    for (const trick of ['http://127.0.0.1:5173/callback#x', 'http://0x7f.1:5173/callback', 'http://2130706433:5173/callback', 'http://127.1:5173/callback',
      'http://127.0.0.1:5173/callback/', 'http://user@127.0.0.1:5173/callback', 'http://127.0.0.1:05173/callback']) {
      assert.equal(redirectUriMatches(registered, trick, true), false, trick);
    }
  });
  test('the seeded console client does not take codes on any loopback port', async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/oauth/authorize?${new URLSearchParams({
        client_id: 'admin-console', redirect_uri: 'http://127.0.0.1:4444/admin/callback', response_type: 'code', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
      })}`, { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.equal((await server.authority.store.getClient('desktop-app'))!.loopbackAnyPort, true, 'the seeded demo clients keep it');
    } finally {
      await server.stop();
    }
  });
});

describe('limits: what one sign-in, user or token can grow to', () => {
  const s = serverPerSuite();

  test(`one browser sign-in mints at most ${LIMITS.accessTokensPerSignInSession} live access tokens; then a clear 429`, async () => {
    const browser = new Browser();
    await signIn(s.server.url, browser, { clientId: 'desktop-app', clockSkewSeconds: s.skew() }, agent);
    for (let i = 1; i < LIMITS.accessTokensPerSignInSession; i++) await exchangeCode(await authorizeCode(s.server.url, browser, { clientId: 'desktop-app', clockSkewSeconds: s.skew() }));
    const over = await authorizeCode(s.server.url, browser, { clientId: 'desktop-app', clockSkewSeconds: s.skew() });
    const res = await fetch(`${s.server.url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'desktop-app', code: over.code, redirect_uri: over.redirectUri, code_verifier: over.verifier }),
    });
    assert.equal(res.status, 429);
    assert.match((await res.json()).error_description, /live access tokens/);
  });

  test(`a user holds at most ${LIMITS.channelsPerUser} notification channels over all of their tokens`, async () => {
    const perToken = 20;
    let made = 0;
    while (made < LIMITS.channelsPerUser) {
      const token = (await signIn(s.server.url, new Browser(), { clientId: 'agent-desktop', clockSkewSeconds: s.skew() }, { username: 'agent2@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
      for (let i = 0; i < perToken && made < LIMITS.channelsPerUser; i++, made++) assert.equal((await s.call('POST', '/api/v2/notifications/channels', token)).status, 200);
      if (made === LIMITS.channelsPerUser) {
        const refused = await s.call('POST', '/api/v2/notifications/channels', token);
        assert.equal(refused.status, 429);
        assert.equal(refused.body.code, 'too.many.requests');
        assert.match(refused.body.message, /notification channels/);
      }
    }
  });

  test(`an access token makes at most ${LIMITS.requestsPerTokenPerMinute} API requests a minute`, async () => {
    const token = (await signIn(s.server.url, new Browser(), { clientId: 'desktop-app', clockSkewSeconds: s.skew() }, { username: 'supervisor@demo.test', password: DEMO_PASSWORD })).tokens.access_token;
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < LIMITS.requestsPerTokenPerMinute / 100 + 1; batch++) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        const status = (await fetch(`${s.server.url}/api/v2/tokens/me?preserveIdleTTL=true`, { headers: { authorization: `Bearer ${token}` } })).status;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }));
    }
    assert.equal(statuses.get(200), LIMITS.requestsPerTokenPerMinute, JSON.stringify([...statuses]));
    assert.equal(statuses.get(429), 100);
    const refused = await s.call('GET', '/api/v2/tokens/me', token);
    assert.deepEqual([refused.status, refused.body.code], [429, 'too.many.requests']);
    const other = (await signIn(s.server.url, new Browser(), { clientId: 'desktop-app', clockSkewSeconds: s.skew() }, agent)).tokens.access_token;
    assert.equal((await s.call('HEAD', '/api/v2/tokens/me', other)).status, 200, 'another token is not slowed');
  });

  test('memory follows the tokens tracked: revoked tokens leave the idle expirer\'s queue too, not a day later', async () => {
    const { authority } = s.server;
    const agentToken = (await signIn(s.server.url, new Browser(), { clientId: 'crm-embedded', clockSkewSeconds: s.skew() }, agent)).tokens.access_token;
    const userId = (await s.call('GET', '/api/v2/tokens/me', agentToken)).body.user.id;
    const now = s.clock.now();
    for (let i = 0; i < 3000; i++) {
      const record = {
        id: `bulk-${i}`, hash: `bulk-hash-${i}`, orgId: 'demo', userId, clientId: 'crm-embedded', sessionId: null, grantId: `bulk-grant-${i}`,
        scope: 'openid', issuedAt: now, expiresAt: now + 86_400_000, lastActivityAt: now, revokedAt: null, revokeReason: null,
      };
      await authority.store.saveAccessToken(record);
      await authority.ledger.track(record);
    }
    assert.equal((await s.call('DELETE', `/api/v2/tokens/${userId}`, await automationToken(s.server.url, DEMO_SECRET))).status, 204);
    s.clock.advance(LIFETIMES.revokedTokenInMemoryMs + 1000);
    await authority.ledger.sweep();
    const tracked = authority.ledger.trackedCount;
    assert.ok(tracked < 1000, `the revoked tokens left the cache (${tracked} tracked)`);
    await signIn(s.server.url, new Browser(), { clientId: 'crm-embedded', clockSkewSeconds: s.skew() }, agent);
    assert.ok(authority.ledger.queuedDeadlines <= 1.25 * authority.ledger.trackedCount + 1024, `queue ${authority.ledger.queuedDeadlines} for ${authority.ledger.trackedCount} tokens`);
  });

  test('the retention job purges what expired or ended past the grace period, nothing live', async () => {
    const token = (await signIn(s.server.url, new Browser(), { clientId: 'crm-embedded', clockSkewSeconds: s.skew() }, agent)).tokens.access_token;
    const ended = (await signIn(s.server.url, new Browser(), { clientId: 'crm-embedded', clockSkewSeconds: s.skew() }, agent)).tokens.access_token;
    assert.equal((await s.call('DELETE', '/api/v2/tokens/me', ended)).status, 204);
    const nothingYet = await s.server.authority.retention.purge();
    assert.equal(nothingYet.accessTokens, 0, 'within the grace period nothing goes');
    s.clock.advance(RETENTION_GRACE_MS + 24 * 3600_000); // past every lifetime here (code 60 s, sign-in 12 h, token 24 h), and the grace
    const purged = await s.server.authority.retention.purge();
    assert.ok(purged.accessTokens >= 1 && purged.authCodes >= 1 && purged.signInSessions >= 1, JSON.stringify(purged));
    assert.equal((await s.call('HEAD', '/api/v2/tokens/me', ended)).status, 401, 'a purged token is still refused');
    assert.equal((await s.call('HEAD', '/api/v2/tokens/me', token)).status, 401, 'expired by now, and purged');
  });
});

describe('excluded-path patterns', () => {
  const cases: [pattern: string, path: string, matches: boolean][] = [
    ['/api/v2/users/*/presences/*', '/api/v2/users/u1/presences/purecloud', true],
    ['/api/v2/users/*/presences/*', '/api/v2/users/u1/presences/purecloud/', true],
    ['/api/v2/users/*/presences/*', '/api/v2/users/u1/presences', false],
    ['/api/v2/users/*/presences/*', '/api/v2/users/u1/u2/presences/purecloud', false],
    ['/api/v2/analytics/**', '/api/v2/analytics', true],
    ['/api/v2/analytics/**', '/api/v2/analytics/queues/q1/observations/query', true],
    ['/api/v2/analytics/**', '/api/v2/analyticsX', false],
    ['/api/v2/q*s/*', '/api/v2/queues/q1', true],
    ['/api/v2/q*s/*', '/api/v2/qs/q1', true],
    ['/api/v2/q*s/*', '/api/v2/queue/q1', false],
    ['/api/v2/a*b*c', '/api/v2/abc', true],
    ['/api/v2/a*b*c', '/api/v2/axxbyybzc', true],
    ['/api/v2/a*b*c', '/api/v2/acb', false],
    ['/api/v2/a*ab', '/api/v2/ab', false],
    ['/api/v2/a*ab', '/api/v2/aab', true],
    ['/api/v2/{id}', '/api/v2/{id}', true],
    ['/api/v2/x.y', '/api/v2/xzy', false],
  ];
  for (const [pattern, path, expected] of cases) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => assert.equal(compilePathPattern(pattern).matches(pathParts(path)), expected));
  }
  test('only /api/ paths of URL characters, at most 200 long', () => {
    for (const bad of ['/oauth/token', 'api/v2/x', '/api/v2/(a+)+', '/api/v2/x?y', `/api/v2/${'x'.repeat(200)}`]) {
      assert.throws(() => compilePathPattern(bad), /inactivityTimeoutExclusions entry/, bad);
    }
  });
});
