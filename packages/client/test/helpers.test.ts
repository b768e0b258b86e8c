import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSignOut, fullJitterDelay, Lockstep, LockstepError } from '../src/index.ts';
import { closeAction } from '../src/close-codes.ts';
import { sessionStorageOrMemory } from '../src/memory-storage.ts';
import { readRefusal, signOutReasonOf } from '../src/token-refusal.ts';
import { parseChallenge } from '../src/www-authenticate.ts';

describe('describeSignOut', () => {
  const d = (reason: Parameters<typeof describeSignOut>[0]['reason'], selfInitiated = false, idleTimeoutMinutes: number | null = null) =>
    describeSignOut({ reason, selfInitiated, idleTimeoutMinutes });

  it('names who or what ended the session', () => {
    assert.equal(d('universal_logout'), 'You signed out in another app');
    assert.equal(d('logout'), 'You signed out in another app');
    assert.equal(d('logout', true), 'You signed out');
    assert.equal(d('universal_logout', true), 'You signed out');
    assert.equal(d('idle_timeout', false, 15), 'Signed out after 15 minutes without activity');
    assert.equal(d('idle_timeout', false, 1), 'Signed out after 1 minute without activity');
    assert.equal(d('idle_timeout', false, 0.5), 'Signed out after 30 seconds without activity');
    assert.equal(d('idle_timeout'), 'Signed out after a period without activity');
    assert.equal(d('admin_logoff'), 'An administrator signed you out');
    assert.equal(d('global_revocation'), "Your organization's identity provider signed you out");
    assert.equal(d('expired'), 'Your session expired');
    assert.equal(d('revocation'), 'Your session was revoked');
    assert.equal(d('invalid_token'), 'Your session is no longer valid');
    assert.equal(d('unknown'), 'Your session ended');
    assert.equal(d('idp_logout'), 'Your identity provider signed you out');
  });
});

describe('fullJitterDelay', () => {
  it('is random() · min(cap, base · 2^attempt)', () => {
    assert.equal(fullJitterDelay(0, 500, 30_000, () => 0), 0);
    assert.equal(fullJitterDelay(0, 500, 30_000, () => 0.5), 250);
    assert.equal(fullJitterDelay(3, 500, 30_000, () => 0.5), 2000);
    assert.equal(fullJitterDelay(20, 500, 30_000, () => 0.5), 15_000);
    assert.equal(fullJitterDelay(1000, 500, 30_000, () => 0.5), 15_000, 'no overflow for huge attempts');
  });

  it('stays in [0, min(cap, base·2^attempt)) for every attempt', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      for (const r of [0, 0.3, 0.999999]) {
        const delay = fullJitterDelay(attempt, 500, 30_000, () => r);
        assert.ok(delay >= 0 && delay < ceiling, `attempt ${attempt}, random ${r}: ${delay}`);
      }
      const delay = fullJitterDelay(attempt, 500, 30_000);
      assert.ok(delay >= 0 && delay < ceiling);
    }
  });
});

describe('WWW-Authenticate and 401 codes', () => {
  it('parses the challenge as auth-params (quoted strings with escapes)', () => {
    assert.deepEqual(parseChallenge('Bearer error="invalid_token", error_description="It said \\"no\\"", code="token.revoked", reason=logout'), {
      scheme: 'bearer', params: { error: 'invalid_token', error_description: 'It said "no"', code: 'token.revoked', reason: 'logout' },
    });
    assert.deepEqual(parseChallenge('Bearer realm="lockstep", code="token.missing"'), { scheme: 'bearer', params: { realm: 'lockstep', code: 'token.missing' } });
    assert.equal(parseChallenge(null), null);
  });

  it('reads code and reason from the header (HEAD: no body), else from the body; another scheme is not about the token', async () => {
    const r401 = (headers: Record<string, string>, body: unknown = null) => new Response(body == null ? null : JSON.stringify(body), { status: 401, headers });
    assert.deepEqual(await readRefusal(r401({ 'www-authenticate': 'Bearer error="invalid_token", code="token.revoked", reason="admin_logoff"' })), { code: 'token.revoked', reason: 'admin_logoff' });
    assert.deepEqual(await readRefusal(r401({ 'www-authenticate': 'Bearer error="invalid_token"' }, { code: 'token.expired' })), { code: 'token.expired', reason: null });
    assert.deepEqual(await readRefusal(r401({}, { code: 'token.revoked', reason: 'logout' })), { code: 'token.revoked', reason: 'logout' });
    assert.deepEqual(await readRefusal(r401({})), { code: null, reason: null });
    assert.equal(await readRefusal(r401({ 'www-authenticate': 'Basic realm="x"' })), null);
    const response = r401({}, { code: 'token.unknown' });
    await readRefusal(response);
    assert.deepEqual(await response.json(), { code: 'token.unknown' }, 'the body is still there for the caller');
  });

  it('maps every code (and revocation reason) to a sign-out reason; unknown codes are generic', () => {
    const r = (code: string | null, reason: string | null = null) => signOutReasonOf({ code, reason });
    assert.equal(r('token.idle_timeout'), 'idle_timeout');
    assert.equal(r('token.expired'), 'expired');
    assert.equal(r('token.unknown'), 'invalid_token');
    assert.equal(r('token.malformed'), 'invalid_token');
    assert.equal(r('token.missing'), 'invalid_token');
    for (const reason of ['logout', 'universal_logout', 'admin_logoff', 'global_revocation', 'revocation', 'refresh_reuse', 'user_deleted', 'client_deleted', 'idp_logout', 'scheduled_logout']) {
      assert.equal(r('token.revoked', reason), reason);
    }
    assert.equal(r('token.revoked'), null, 'revoked without a reason: ask the channel');
    assert.equal(r('token.revoked', 'solar_flare'), null, 'a reason this SDK does not know: ask the channel');
    assert.equal(r('token.quantum'), 'unknown');
    assert.equal(r(null), 'unknown');
  });
});

describe('close codes', () => {
  it('4000–4999 is final: known codes act, unknown ones check the token; below 4000 reconnects', () => {
    assert.equal(closeAction(4001), 'token_ended');
    assert.equal(closeAction(4002), 'stay_closed');
    assert.equal(closeAction(4003), 'token_expired');
    assert.equal(closeAction(4004), 'new_channel');
    for (const code of [4000, 4005, 4500, 4999]) assert.equal(closeAction(code), 'check_token', String(code));
    for (const code of [1000, 1001, 1006, 1011, 3999, 5000]) assert.equal(closeAction(code), 'reconnect', String(code));
  });
});

describe('options', () => {
  it('refuses a missing issuer or clientId with a LockstepError', () => {
    assert.throws(() => new Lockstep({ issuer: '', clientId: 'c', redirectUri: 'https://app.test/cb' }), (err: LockstepError) => err.code === 'invalid_options');
    assert.throws(() => new Lockstep({ issuer: 'not a url', clientId: 'c', redirectUri: 'https://app.test/cb' }), (err: LockstepError) => err.code === 'invalid_options');
  });
});

describe('a frame denied sessionStorage (third-party cookies blocked)', () => {
  /** Runs `fn` while reading `globalThis.sessionStorage` throws, as in a third-party iframe of Chromium. */
  async function denied<T>(fn: () => Promise<T> | T): Promise<T> {
    Object.defineProperty(globalThis, 'sessionStorage', { configurable: true, get() { throw new Error('SecurityError: Access is denied for this document.'); } });
    try {
      return await fn();
    } finally {
      delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
    }
  }

  it('the SDK keeps the session in memory instead of failing', async () => {
    const storage = await denied(() => sessionStorageOrMemory());
    storage.setItem('k', 'v');
    assert.equal(storage.getItem('k'), 'v');
    const lockstep = await denied(() => new Lockstep({
      issuer: 'https://auth.test', clientId: 'c', redirectUri: 'https://app.test/cb', WebSocket: class {} as never,
      location: { href: 'https://app.test/', pathname: '/', search: '', hash: '', assign() {} }, window: null, broadcast: null,
    }));
    assert.equal(lockstep.state, 'starting');
  });

  it('the redirect page of a silent sign-in hands its answer over without touching storage', async () => {
    const posted: unknown[] = [];
    const returnTo = await denied(() => Lockstep.handleRedirectCallback({
      issuer: 'https://auth.test', redirectUri: 'https://app.test/cb', location: { search: '?error=login_required&state=s.x' },
      window: { parent: { postMessage: (m: unknown) => void posted.push(m) } },
    }));
    assert.equal(returnTo, 'about:blank');
    assert.equal(posted.length, 1);
  });
});
