import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSignOut, fullJitterDelay, Lockstep, LockstepError } from '../src/index.ts';
import { tokenProblem } from '../src/www-authenticate.ts';

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

describe('WWW-Authenticate', () => {
  it('reads the reason the server gives for refusing the token', () => {
    const h = (description: string) => `Bearer error="invalid_token", error_description="${description}"`;
    assert.equal(tokenProblem(h('The access token has been revoked')), 'revoked');
    assert.equal(tokenProblem(h('The access token expired after the idle timeout')), 'idle_timeout');
    assert.equal(tokenProblem(h('The access token has expired')), 'expired');
    assert.equal(tokenProblem(h('The access token is not known')), 'invalid');
    assert.equal(tokenProblem('Bearer realm="lockstep"'), null);
    assert.equal(tokenProblem(null), null);
    assert.equal(tokenProblem('Basic realm="x"'), null);
  });
});

describe('options', () => {
  it('refuses a missing issuer or clientId with a LockstepError', () => {
    assert.throws(() => new Lockstep({ issuer: '', clientId: 'c', redirectUri: 'https://app.test/cb' }), (err: LockstepError) => err.code === 'invalid_options');
    assert.throws(() => new Lockstep({ issuer: 'not a url', clientId: 'c', redirectUri: 'https://app.test/cb' }), (err: LockstepError) => err.code === 'invalid_options');
  });
});
