/**
 * One person, several clients, one browser sign-in session: single sign-on between clients,
 * per-client tokens, per-client logout (universal logout is off by default), RP-initiated logout.
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { after, before, describe, test } from 'node:test';
import { authorizeCode, Browser, exchangeCode, signIn } from './helpers/browser.ts';
import { api, authorizeStatus, isOAuthError, refresh, tokenStatus } from './helpers/flows.ts';
import { DEMO_PASSWORD, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const admin = { username: 'admin@demo.test', password: DEMO_PASSWORD };

describe('several clients of one browser sign-in session', () => {
  let server: TestServer;
  let adminToken: string;
  let agentId: string;

  before(async () => {
    server = await startTestServer();
    adminToken = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, admin)).tokens.access_token;
    const users = await api(server.url, adminToken, 'GET', '/api/v2/users');
    agentId = users.body.entities.find((u: { email: string }) => u.email === 'agent@demo.test').id;
  });
  after(() => server.stop());

  const audits = async (query: string) => {
    const res = await api(server.url, adminToken, 'GET', `/api/v2/audits?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.entities as { kind: string; userId: string | null; clientId: string | null; at: string; details: Record<string, any> }[];
  };

  test('the second client gets its code without a password prompt; tokens differ; DELETE /api/v2/tokens/me with one leaves the other live', async () => {
    const browser = new Browser();
    const desk = await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    assert.equal(desk.passwordPrompted, true, 'the first client shows the login form');
    const crm = await signIn(server.url, browser, { clientId: 'crm-embedded' });
    assert.equal(crm.passwordPrompted, false, 'the second client of the same browser session is not prompted');

    assert.notEqual(crm.tokens.access_token, desk.tokens.access_token);
    assert.notEqual(crm.tokens.refresh_token, desk.tokens.refresh_token);
    const deskId = decodeJwt(desk.tokens.id_token!);
    const crmId = decodeJwt(crm.tokens.id_token!);
    assert.equal(deskId.aud, 'agent-desktop');
    assert.equal(crmId.aud, 'crm-embedded');
    assert.equal(crmId.sub, deskId.sub, 'same person');
    assert.equal(crmId.sid, deskId.sid, 'same sign-in session');

    for (const [tokens, clientId] of [[desk.tokens, 'agent-desktop'], [crm.tokens, 'crm-embedded']] as const) {
      const me = await api(server.url, tokens.access_token, 'GET', '/api/v2/tokens/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.OAuthClient.id, clientId);
      assert.equal(me.body.user.email, 'agent@demo.test');
    }

    const logout = await api(server.url, crm.tokens.access_token, 'DELETE', '/api/v2/tokens/me');
    assert.equal(logout.status, 204);
    const dead = await fetch(server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${crm.tokens.access_token}` } });
    assert.equal(dead.status, 401, 'the client that logged out holds a dead token');
    assert.match(dead.headers.get('www-authenticate') ?? '', /Bearer error="invalid_token"/);
    assert.equal(await tokenStatus(server.url, desk.tokens.access_token), 200, 'the other client stays live');

    await assert.rejects(refresh(server.url, 'crm-embedded', crm.tokens.refresh_token!), isOAuthError('invalid_grant'),
      'the logout also ended that client\'s refresh token');
    const deskRefreshed = await refresh(server.url, 'agent-desktop', desk.tokens.refresh_token!);
    assert.equal(await tokenStatus(server.url, deskRefreshed.access_token), 200, 'the other client can still refresh');

    // Still signed in to the browser: the logged-out client gets a new code without a password.
    const back = await signIn(server.url, browser, { clientId: 'crm-embedded' });
    assert.equal(back.passwordPrompted, false);
    assert.equal(await tokenStatus(server.url, back.tokens.access_token), 200);

    const entries = await audits(`userId=${agentId}&kind=logout`);
    const entry = entries.find((e) => e.clientId === 'crm-embedded');
    assert.ok(entry, `an audit entry for the logout: ${JSON.stringify(entries)}`);
    assert.equal(entry.userId, agentId);
    assert.deepEqual(entry.details.clients, ['crm-embedded'], 'the logout ended the crm-embedded token only');
    assert.equal(entry.details.accessTokenIds.length, 1);
    assert.ok(Date.parse(entry.at) > Date.now() - 60_000);

    const forbidden = await api(server.url, desk.tokens.access_token, 'GET', `/api/v2/audits?userId=${agentId}`);
    assert.equal(forbidden.status, 403, 'an agent may not read the audit log');
  });

  test('a different browser (no session cookie) is prompted for the password', async () => {
    const first = new Browser();
    await signIn(server.url, first, { clientId: 'agent-desktop' }, agent);
    const other = new Browser();
    const shown = await authorizeStatus(server.url, other, 'crm-embedded');
    assert.equal(shown.status, 200);
    assert.match(shown.body, /<form method="post"/);
    assert.match(shown.body, /name="username"/);
    assert.match(shown.body, /name="password"/);
    await assert.rejects(signIn(server.url, other, { clientId: 'crm-embedded' }), /asked for a password/);
    const withPassword = await signIn(server.url, other, { clientId: 'crm-embedded' }, agent);
    assert.equal(withPassword.passwordPrompted, true);
  });

  test('prompt=login shows the form even with a live sign-in session', async () => {
    const browser = new Browser();
    await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    const firstCookie = browser.cookies.get('lockstep_session');
    assert.ok(firstCookie);
    assert.equal((await authorizeStatus(server.url, browser, 'crm-embedded')).status, 303, 'without prompt: straight to the code');

    const forced = await authorizeStatus(server.url, browser, 'crm-embedded', { prompt: 'login' });
    assert.equal(forced.status, 200, 'prompt=login: the login form');
    assert.match(forced.body, /name="password"/);

    await assert.rejects(authorizeCode(server.url, browser, { clientId: 'crm-embedded' }, undefined, { prompt: 'login' }), /asked for a password/);
    const step = await authorizeCode(server.url, browser, { clientId: 'crm-embedded' }, agent, { prompt: 'login' });
    assert.equal(step.passwordPrompted, true);
    const tokens = await exchangeCode(step);
    assert.equal(await tokenStatus(server.url, tokens.access_token), 200);
    const payload = decodeJwt(tokens.id_token!);
    assert.ok(typeof payload.auth_time === 'number');
    assert.notEqual(browser.cookies.get('lockstep_session'), firstCookie, 'signing in again starts a new sign-in session');
  });

  test('RP-initiated logout with id_token_hint: 303 to the registered URI with state; ends that client\'s tokens and the sign-in session', async () => {
    const browser = new Browser();
    const desk = await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    const crm = await signIn(server.url, browser, { clientId: 'crm-embedded' });
    assert.equal(crm.passwordPrompted, false);
    const cookie = browser.cookies.get('lockstep_session')!;
    const sid = decodeJwt(desk.tokens.id_token!).sid;

    const url = new URL(server.url + '/oauth/logout');
    url.search = new URLSearchParams({ id_token_hint: desk.tokens.id_token!, post_logout_redirect_uri: `${server.url}/demo/agent`, state: 'xyz' }).toString();
    const res = await browser.fetch(url.toString());
    assert.equal(res.status, 303);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, `${server.url}/demo/agent`, 'the seeded post-logout URI follows the issuer');
    assert.equal(location.searchParams.get('state'), 'xyz');

    assert.equal(await tokenStatus(server.url, desk.tokens.access_token), 401, 'the logging-out client\'s access token is dead');
    await assert.rejects(refresh(server.url, 'agent-desktop', desk.tokens.refresh_token!), isOAuthError('invalid_grant'),
      'and its refresh token');
    assert.equal(await tokenStatus(server.url, crm.tokens.access_token), 200,
      'universal logout is off: the other client\'s token stays live');

    assert.equal(browser.cookies.has('lockstep_session'), false, 'the session cookie is cleared');
    assert.equal((await authorizeStatus(server.url, browser, 'agent-desktop')).status, 200, 'a new authorize shows the login form');
    // Not only the cookie: the sign-in session itself ended on the server.
    const replay = new Browser();
    replay.cookies.set('lockstep_session', cookie);
    const replayed = await authorizeStatus(server.url, replay, 'crm-embedded');
    assert.equal(replayed.status, 200, 'the old session cookie no longer signs anyone in');
    assert.match(replayed.body, /name="password"/);

    const entry = (await audits(`userId=${agentId}&kind=logout`)).find((e) => e.clientId === 'agent-desktop' && e.details.signInSessionIds?.includes(sid));
    assert.ok(entry, 'the RP-initiated logout is audited with the ended session');
    assert.deepEqual(entry.details.clients, ['agent-desktop']);
  });

  test('RP-initiated logout refuses an unregistered post_logout_redirect_uri with 400 and ends nothing', async () => {
    const browser = new Browser();
    const desk = await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    for (const target of [`${server.url}/evil`, 'https://attacker.example/agent', `${server.url}/demo/embedded` /* crm-embedded's, not agent-desktop's */]) {
      const url = new URL(server.url + '/oauth/logout');
      url.search = new URLSearchParams({ id_token_hint: desk.tokens.id_token!, post_logout_redirect_uri: target, state: 'xyz' }).toString();
      const res = await browser.fetch(url.toString());
      assert.equal(res.status, 400, target);
      assert.equal(res.headers.get('location'), null, `no redirect to ${target}`);
    }
    const withoutClient = await browser.fetch(`${server.url}/oauth/logout?post_logout_redirect_uri=${encodeURIComponent(`${server.url}/demo/agent`)}`);
    assert.equal(withoutClient.status, 400, 'without id_token_hint or client_id the URI cannot be checked');

    assert.equal(await tokenStatus(server.url, desk.tokens.access_token), 200, 'a refused logout ends nothing');
    assert.equal(browser.cookies.has('lockstep_session'), true);
    assert.equal((await authorizeStatus(server.url, browser, 'crm-embedded')).status, 303, 'the sign-in session is still live');
  });

  test("Genesys Cloud's /logout (the official SDK's logout()): ends the session, redirects to a registered redirect URI, refuses others", async () => {
    const browser = new Browser();
    const desk = await signIn(server.url, browser, { clientId: 'agent-desktop' }, agent);
    const refused = await browser.fetch(`${server.url}/logout?client_id=agent-desktop&redirect_uri=${encodeURIComponent('https://attacker.example/')}`);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /redirect_uri is not registered/);
    assert.equal(await tokenStatus(server.url, desk.tokens.access_token), 200, 'a refused logout ends nothing');

    const back = 'http://127.0.0.1:4567/callback'; // a loopback redirect URI: any port
    const res = await browser.fetch(`${server.url}/logout?client_id=agent-desktop&redirect_uri=${encodeURIComponent(back)}`);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), back);
    assert.equal(await tokenStatus(server.url, desk.tokens.access_token), 401, 'the client\'s token ended');
    assert.equal(browser.cookies.has('lockstep_session'), false);
    assert.equal((await authorizeStatus(server.url, browser, 'agent-desktop')).status, 200, 'the next sign-in asks for the password');
  });
});
