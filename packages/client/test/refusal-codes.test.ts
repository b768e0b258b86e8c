import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_ID, connectedTab, fakeBrowser } from './fakes/env.ts';

/** Every 401 code of the contract, with the sign-out the SDK makes of it. */
const CASES: { code: string | null; reason?: string; expect: string; message: string }[] = [
  { code: 'token.missing', expect: 'invalid_token', message: 'Your session is no longer valid' },
  { code: 'token.malformed', expect: 'invalid_token', message: 'Your session is no longer valid' },
  { code: 'token.unknown', expect: 'invalid_token', message: 'Your session is no longer valid' },
  { code: 'token.expired', expect: 'expired', message: 'Your session expired' },
  { code: 'token.idle_timeout', expect: 'idle_timeout', message: 'Signed out after 10 minutes without activity' },
  { code: 'token.revoked', reason: 'logout', expect: 'logout', message: 'You signed out in another app' },
  { code: 'token.revoked', reason: 'universal_logout', expect: 'universal_logout', message: 'You signed out in another app' },
  { code: 'token.revoked', reason: 'admin_logoff', expect: 'admin_logoff', message: 'An administrator signed you out' },
  { code: 'token.revoked', reason: 'global_revocation', expect: 'global_revocation', message: "Your organization's identity provider signed you out" },
  { code: 'token.revoked', reason: 'revocation', expect: 'revocation', message: 'Your session was revoked' },
  { code: 'token.revoked', reason: 'refresh_reuse', expect: 'refresh_reuse', message: 'You were signed out for your security: your session was used in two places' },
  { code: 'token.revoked', reason: 'user_deleted', expect: 'user_deleted', message: 'Your account was removed' },
  { code: 'token.revoked', reason: 'client_deleted', expect: 'client_deleted', message: 'This app was removed from your organization' },
  { code: 'token.revoked', reason: 'idp_logout', expect: 'idp_logout', message: 'Your identity provider signed you out' },
  { code: 'token.revoked', reason: 'scheduled_logout', expect: 'scheduled_logout', message: 'Your organization signed you out at the scheduled time' },
  { code: 'token.not_yet_invented', expect: 'unknown', message: 'Your session ended' },
  { code: null, expect: 'unknown', message: 'Your session ended' },
];

const label = (c: (typeof CASES)[number]) => `${c.code ?? '(no code)'}${c.reason ? ` + reason ${c.reason}` : ''}`;

describe('401 codes: the SDK switches on code and reason, never on the message', () => {
  for (const c of CASES) {
    it(`${label(c)} from ls.fetch (JSON body and header) → signedOut ${c.expect}`, async () => {
      const browser = fakeBrowser();
      const tab = await connectedTab(browser);
      browser.server.tokens.get('t1')!.refusal = { code: c.code, reason: c.reason };
      const response = await tab.lockstep.fetch('/api/v2/users/u1/presence');
      assert.equal(response.status, 401);
      assert.equal((await response.json()).code, c.code ?? undefined, 'the app can still read the body');
      await browser.clock.advance(0);
      assert.equal(tab.lockstep.state, 'ended');
      assert.deepEqual(tab.events.signedOut?.map((e) => [e.reason, e.message]), [[c.expect, c.message]]);
      assert.ok(browser.lastSocket().closedByClient, 'the channel is closed');
    });

    if (c.code) {
      it(`${label(c)} in a HEAD answer (no body: the header alone) → signedOut ${c.expect}`, async () => {
        const browser = fakeBrowser();
        const tab = await connectedTab(browser);
        browser.server.tokens.get('t1')!.refusal = { code: c.code, reason: c.reason };
        const response = await tab.lockstep.fetch('/api/v2/tokens/me', { method: 'HEAD' });
        assert.equal(await response.text(), '', 'HEAD: no body');
        await browser.clock.advance(0);
        assert.deepEqual(tab.events.signedOut?.map((e) => e.reason), [c.expect]);
      });
    }
  }

  it('token.revoked with a reason this SDK does not know waits for the channel, then ends as a revocation', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.tokens.get('t1')!.refusal = { code: 'token.revoked', reason: 'solar_flare' };
    await tab.lockstep.fetch('/api/v2/anything');
    await browser.clock.advance(999);
    assert.equal(tab.lockstep.state, 'signed_in', 'waiting up to a second for the channel to name it');
    await browser.clock.advance(1);
    assert.deepEqual(tab.events.signedOut?.map((e) => [e.reason, e.message]), [['revocation', 'Your session was revoked']]);
  });

  it('a 401 with another scheme (Basic) is not about the bearer token: the session stays', async () => {
    const browser = fakeBrowser();
    const tab = await connectedTab(browser);
    browser.server.routes.set('GET /api/v2/legacy', () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="legacy"' } }));
    await tab.lockstep.fetch('/api/v2/legacy');
    await browser.clock.advance(5000);
    assert.equal(tab.lockstep.state, 'signed_in');
  });
});

describe('401 codes at start (the stored token is checked)', () => {
  it('token.unknown / token.malformed: the stored token is dropped quietly → signed_out', async () => {
    for (const code of ['token.unknown', 'token.malformed']) {
      const browser = fakeBrowser();
      browser.server.issue('t1', { refusal: { code } });
      const tab = browser.tab();
      tab.signedInAs('t1');
      assert.equal(await tab.lockstep.start(), 'signed_out', code);
      assert.equal(tab.events.signedOut, undefined);
      assert.equal(tab.storage.getItem(`lockstep:${CLIENT_ID}:token`), null);
    }
  });

  it('a token that ended says why: ended with the reason of its code', async () => {
    const browser = fakeBrowser();
    browser.server.issue('t1', { refusal: { code: 'token.revoked', reason: 'admin_logoff' } });
    browser.server.issue('t2', { refusal: { code: 'token.brand_new' } });
    const first = browser.tab();
    first.signedInAs('t1');
    assert.equal(await first.lockstep.start(), 'ended');
    assert.equal(first.events.signedOut?.[0]?.reason, 'admin_logoff');
    const second = browser.tab();
    second.signedInAs('t2');
    assert.equal(await second.lockstep.start(), 'ended');
    assert.equal(second.events.signedOut?.[0]?.reason, 'unknown');
  });
});
