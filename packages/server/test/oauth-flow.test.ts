import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { bearer, Browser, discover, insecure, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

describe('OAuth 2.1 / OIDC with oauth4webapi', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  test('metadata at both well-known URLs names every endpoint and only S256', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const meta = await (await fetch(server.url + path)).json();
      assert.equal(meta.issuer, server.url);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      for (const key of ['revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint', 'jwks_uri', 'token_endpoint', 'authorization_endpoint']) {
        assert.match(meta[key], /^http:\/\/127\.0\.0\.1:\d+\/oauth\//, key);
      }
    }
  });

  test('authorization code + PKCE: login form, code exchange, ID token verified against /oauth/jwks', async () => {
    const { tokens, passwordPrompted } = await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, agent);
    assert.equal(passwordPrompted, true);
    assert.match(tokens.access_token, /^lsat_/);
    assert.match(tokens.refresh_token!, /^lsrt_/);
    const jwks = createRemoteJWKSet(new URL(server.url + '/oauth/jwks'));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.url, audience: 'agent-desktop' });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.email, 'agent@demo.test');
    assert.ok(payload.sid);

    const me = await fetch(server.url + '/api/v2/tokens/me', { headers: bearer(tokens.access_token) });
    assert.equal(me.status, 200);
    const info = await me.json();
    assert.equal(info.user.email, 'agent@demo.test');
    assert.deepEqual(info.OAuthClient, { id: 'agent-desktop', name: info.OAuthClient.name, authorizedGrantType: 'CODE', organization: info.organization });
    assert.equal(info.organization.id, 'demo');
    assert.deepEqual(info.homeOrganization, info.organization);
    assert.ok(info.authorizedScope.includes('openid'));
    assert.equal(info.dateTokenIdles, undefined, 'no idle timeout: no dateTokenIdles');
  });

  test('refresh rotates; reusing a rotated refresh token is refused and revokes the whole family', async () => {
    const as = await discover(server.url);
    const client = { client_id: 'agent-desktop' };
    const { tokens } = await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, agent);

    const first = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    assert.notEqual(first.refresh_token, tokens.refresh_token);
    assert.notEqual(first.access_token, tokens.access_token);

    await assert.rejects(
      async () => oauth.processRefreshTokenResponse(as, client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure)),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant',
    );
    // The family is gone: the newest refresh token and every access token of the grant.
    await assert.rejects(
      async () => oauth.processRefreshTokenResponse(as, client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), first.refresh_token!, insecure)),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant',
    );
    for (const token of [tokens.access_token, first.access_token]) {
      const res = await fetch(server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: bearer(token) });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
    }
  });

  test('client_credentials for automation, with client_secret_basic and client_secret_post', async () => {
    const as = await discover(server.url);
    const client = { client_id: 'automation' };
    for (const auth of [oauth.ClientSecretBasic(DEMO_SECRET), oauth.ClientSecretPost(DEMO_SECRET)]) {
      const tokens = await oauth.processClientCredentialsResponse(as, client,
        await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure));
      assert.match(tokens.access_token, /^lsat_/);
      assert.equal(tokens.refresh_token, undefined);
      const users = await fetch(server.url + '/api/v2/users', { headers: bearer(tokens.access_token) });
      assert.equal(users.status, 200, 'automation may call the admin API');
    }
    await assert.rejects(
      async () => oauth.processClientCredentialsResponse(as, client,
        await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong'), new URLSearchParams(), insecure)),
      // RFC 6749 §5.2: a failed Basic authentication is a 401 with a Basic challenge.
      (err: unknown) => err instanceof oauth.WWWAuthenticateChallengeError && err.status === 401,
    );
  });

  test('introspection (RFC 7662) and revocation (RFC 7009)', async () => {
    const as = await discover(server.url);
    const rs = { client_id: 'crm-backend' };
    const rsAuth = oauth.ClientSecretBasic(DEMO_SECRET);
    const { tokens } = await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, agent);

    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, insecure));
    const live = await introspect(tokens.access_token);
    assert.equal(live.active, true);
    assert.equal(live.client_id, 'agent-desktop');
    assert.equal(live.username, 'agent@demo.test');
    assert.equal((await introspect(tokens.refresh_token!)).active, true);
    assert.deepEqual(await introspect('lsat_not-a-token'), { active: false });

    const publicCaller = await fetch(as.introspection_endpoint!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: 'agent-desktop' }),
    });
    assert.equal(publicCaller.status, 401, 'public clients may not introspect');

    const client = { client_id: 'agent-desktop' };
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.access_token, insecure));
    assert.deepEqual(await introspect(tokens.access_token), { active: false });
    const head = await fetch(server.url + '/api/v2/tokens/me', { method: 'HEAD', headers: bearer(tokens.access_token) });
    assert.equal(head.status, 401);
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), 'lsat_unknown', insecure));
    // Revoking the refresh token ends the grant.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    assert.deepEqual(await introspect(tokens.refresh_token!), { active: false });
  });
});
