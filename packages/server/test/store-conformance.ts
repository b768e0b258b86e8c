/**
 * The Store conformance suite. Every Store implementation runs it unchanged:
 *
 *   runStoreConformance('PostgresStore', async () => { ...; return { store, cleanup } });
 *
 * Each test gets a fresh, empty store from `makeStore` and calls `cleanup` afterwards.
 * The suite talks to the Store interface only, never to SQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  DEFAULT_ORG_SETTINGS, type AccessToken, type AuthCode, type Client, type Group, type OrgSettings, type RefreshToken,
  type SignInSession, type User,
  type RevokedSet,
} from '../src/core/records.ts';
import { StoreConflictError, type Store } from '../src/store/store.ts';
import { storeTruthConformance } from './store-conformance-truth.ts';

export type StoreFactory = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

let serial = 0;
/** Unique, recognisable values: `${kind}-${n}-${uuid}` so a failure message says what it was. */
const uid = (kind: string) => `${kind}-${++serial}-${randomUUID()}`;

// ---------------------------------------------------------------- record builders

function org(id = uid('org')) {
  return { id, name: `Org ${id}`, createdAt: T0 };
}

function user(orgId: string, over: Partial<User> = {}): User {
  const id = over.id ?? uid('user');
  return {
    id, orgId, email: `${id}@example.test`, name: `User ${id}`, passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
    roles: ['agent'], version: 1, createdAt: T0, updatedAt: T0, ...over,
  };
}

function group(orgId: string, memberIds: string[], over: Partial<Group> = {}): Group {
  const id = over.id ?? uid('group');
  return {
    id, orgId, name: `Group ${id}`, description: 'a group', type: 'official', visibility: 'public', rulesVisible: false, memberIds,
    version: 1, createdAt: T0, updatedAt: T0, ...over,
  };
}

function client(orgId: string, over: Partial<Client> = {}): Client {
  return {
    id: uid('client'), orgId, name: 'A client', type: 'public', secretHash: null,
    redirectUris: ['http://127.0.0.1/callback', 'https://app.example.test/cb'], grantTypes: ['authorization_code', 'refresh_token'],
    postLogoutRedirectUris: ['https://app.example.test/bye'], backchannelLogoutUri: null, allowedOrigins: ['https://crm.example.test'], roles: [], loopbackAnyPort: true, createdAt: T0, ...over,
  };
}

function session(orgId: string, userId: string, over: Partial<SignInSession> = {}): SignInSession {
  return {
    id: uid('session'), tokenHash: uid('session-hash'), orgId, userId, authTime: T0, createdAt: T0, expiresAt: T0 + 12 * HOUR,
    endedAt: null, ...over,
  };
}

function authCode(orgId: string, userId: string, sessionId: string, over: Partial<AuthCode> = {}): AuthCode {
  return {
    hash: uid('code-hash'), clientId: 'some-client', orgId, userId, sessionId, redirectUri: 'http://127.0.0.1/callback',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', scope: 'openid email', nonce: 'n-0S6_WzA2Mj',
    createdAt: T0, expiresAt: T0 + 60_000, ...over,
  };
}

function accessToken(orgId: string, over: Partial<AccessToken> = {}): AccessToken {
  return {
    id: uid('at'), hash: uid('at-hash'), orgId, userId: null, clientId: 'some-client', sessionId: null, grantId: uid('grant'),
    scope: 'openid', issuedAt: T0, expiresAt: T0 + 24 * HOUR, lastActivityAt: T0, idleDeadlineAt: T0, revokedAt: null, revokeReason: null, ...over,
  };
}

function refreshToken(orgId: string, userId: string, over: Partial<RefreshToken> = {}): RefreshToken {
  return {
    id: uid('rt'), hash: uid('rt-hash'), grantId: uid('grant'), orgId, userId, clientId: 'some-client', sessionId: uid('session'),
    scope: 'openid', issuedAt: T0, expiresAt: T0 + 30 * 24 * HOUR, rotatedAt: null, revokedAt: null, ...over,
  };
}

const sorted = (xs: string[]) => [...xs].sort();
const isConflict = (err: unknown) => err instanceof StoreConflictError;
const EMPTY: RevokedSet = { accessTokens: [], refreshTokenIds: [], signInSessionIds: [] };

/** The ids of a RevokedSet, sorted, for order-free comparison. */
function ids(set: RevokedSet) {
  return {
    accessTokens: sorted(set.accessTokens.map((t) => t.id)),
    refreshTokenIds: sorted(set.refreshTokenIds),
    signInSessionIds: sorted(set.signInSessionIds),
  };
}

export function runStoreConformance(name: string, makeStore: StoreFactory) {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    storeTruthConformance(() => store, async () => {
      const o = org();
      await store.createOrg(o, DEFAULT_ORG_SETTINGS);
      return o.id;
    });

    /** Two orgs, so every org-scoped getter can be asked about the other org's rows. */
    async function twoOrgs() {
      const a = org();
      const b = org();
      await store.createOrg(a, DEFAULT_ORG_SETTINGS);
      await store.createOrg(b, DEFAULT_ORG_SETTINGS);
      return { a: a.id, b: b.id };
    }

    // ------------------------------------------------------------ orgs and settings

    describe('orgs and org settings', () => {
      test('createOrg, getOrg, countOrgs; an unknown id is null; a taken id is a conflict', async () => {
        assert.equal(await store.countOrgs(), 0, 'a fresh store is empty');
        const o = org();
        await store.createOrg(o, DEFAULT_ORG_SETTINGS);
        assert.deepEqual(await store.getOrg(o.id), o);
        assert.equal(await store.getOrg('no-such-org'), null);
        assert.equal(await store.countOrgs(), 1);
        await store.createOrg(org(), DEFAULT_ORG_SETTINGS);
        assert.equal(await store.countOrgs(), 2);
        await assert.rejects(store.createOrg({ ...o, name: 'again' }, DEFAULT_ORG_SETTINGS), isConflict);
        assert.equal((await store.getOrg(o.id))!.name, o.name, 'the failed create changed nothing');
        assert.equal(await store.countOrgs(), 2);
      });

      test('org settings round-trip, nested bundles included, and stay per org', async () => {
        const { a, b } = await twoOrgs();
        assert.deepEqual(await store.getOrgSettings(a), DEFAULT_ORG_SETTINGS, 'createOrg stores the settings it is given');
        assert.equal(await store.getOrgSettings('no-such-org'), null);

        const changed: OrgSettings = {
          universalLogout: true,
          inactivityTimeoutExclusions: ['/api/v2/presence/poll', '/api/v2/notifications/*'],
          hipaa: true,
          idle: {
            enableIdleTokenTimeout: true,
            idleTokenTimeoutSeconds: 600,
            inactivityTimeoutUnit: 'HOURS',
            inactivityTimeoutGroupsEnabled: true,
            inactivityTimeoutGroupBundles: [
              { priority: 1, timeoutSeconds: 300, inactivityTimeoutUnit: 'SECONDS', groups: ['g-1', 'g-2'] },
              { priority: 5, timeoutSeconds: 900, inactivityTimeoutUnit: 'MINUTES', groups: [] },
            ],
          },
        };
        await store.saveOrgSettings(a, changed);
        assert.deepEqual(await store.getOrgSettings(a), changed);
        assert.deepEqual(await store.getOrgSettings(b), DEFAULT_ORG_SETTINGS, 'the other org is untouched');

        await store.saveOrgSettings(a, { ...changed, universalLogout: false });
        assert.equal((await store.getOrgSettings(a))!.universalLogout, false, 'a second save replaces the first');
      });
    });

    // ------------------------------------------------------------ users

    describe('users', () => {
      test('createUser / getUser round-trip; getUser never answers with another org\'s user', async () => {
        const { a, b } = await twoOrgs();
        const u = user(a, { roles: ['admin', 'supervisor'] });
        const noPassword = user(a, { passwordHash: null });
        await store.createUser(u);
        await store.createUser(noPassword);
        assert.deepEqual(await store.getUser(a, u.id), u);
        assert.deepEqual(await store.getUser(a, noPassword.id), noPassword);
        assert.equal(await store.getUser(b, u.id), null, 'org b cannot read org a\'s user by id');
        assert.equal(await store.getUser(a, 'no-such-user'), null);
      });

      test('findUserByEmail is case-insensitive and global (no org needed)', async () => {
        const { a, b } = await twoOrgs();
        const u = user(a, { email: 'Mixed.Case@Example.Test' });
        const other = user(b, { email: 'someone@other.test' });
        await store.createUser(u);
        await store.createUser(other);
        for (const spelling of ['Mixed.Case@Example.Test', 'mixed.case@example.test', 'MIXED.CASE@EXAMPLE.TEST']) {
          assert.deepEqual(await store.findUserByEmail(spelling), u, spelling);
        }
        assert.deepEqual(await store.findUserByEmail('SOMEONE@other.test'), other);
        assert.equal(await store.findUserByEmail('nobody@example.test'), null);
        assert.equal(await store.findUserByEmail('mixed.case@example'), null, 'no prefix matching');
      });

      test('emails are unique across orgs, whatever the case: create and update raise StoreConflictError', async () => {
        const { a, b } = await twoOrgs();
        const u = user(a, { email: 'taken@example.test' });
        await store.createUser(u);
        await assert.rejects(store.createUser(user(a, { email: 'taken@example.test' })), isConflict, 'same org, same email');
        await assert.rejects(store.createUser(user(b, { email: 'TAKEN@Example.Test' })), isConflict, 'other org, other case');
        assert.equal((await store.listUsers(b)).length, 0, 'the refused user was not stored');

        const v = user(b, { email: 'free@example.test' });
        await store.createUser(v);
        await assert.rejects(store.updateUser({ ...v, email: 'Taken@example.test', name: 'Renamed', version: 2 }), isConflict);
        assert.deepEqual(await store.getUser(b, v.id), v, 'the refused update changed nothing');
        // Changing only the case of one's own email is not a conflict.
        assert.equal(await store.updateUser({ ...u, email: 'TAKEN@example.test', version: 2 }), true);
        assert.equal((await store.getUser(a, u.id))!.email, 'TAKEN@example.test');
      });

      test('listUsers lists one org only', async () => {
        const { a, b } = await twoOrgs();
        const a1 = user(a);
        const a2 = user(a);
        const b1 = user(b);
        for (const u of [a1, a2, b1]) await store.createUser(u);
        assert.deepEqual(sorted((await store.listUsers(a)).map((u) => u.id)), sorted([a1.id, a2.id]));
        assert.deepEqual((await store.listUsers(b)).map((u) => u.id), [b1.id]);
        assert.deepEqual(await store.listUsers('no-such-org'), []);
        assert.deepEqual((await store.listUsers(b))[0], b1, 'listed users are whole records');
      });

      test('updateUser changes the user of its own org only', async () => {
        const { a, b } = await twoOrgs();
        const u = user(a);
        await store.createUser(u);
        const next: User = { ...u, email: 'new@example.test', name: 'New Name', passwordHash: null, roles: ['supervisor'], version: 2, updatedAt: T0 + 5 };
        assert.equal(await store.updateUser(next), true);
        assert.deepEqual(await store.getUser(a, u.id), next);
        assert.deepEqual(await store.findUserByEmail('new@example.test'), next);
        assert.equal(await store.findUserByEmail(u.email), null, 'the old email no longer finds the user');

        assert.equal(await store.updateUser({ ...next, orgId: b, name: 'Hijacked', version: 3 }), false);
        assert.deepEqual(await store.getUser(a, u.id), next, 'an update naming another org changes nothing');
        assert.equal(await store.getUser(b, u.id), null, 'nor moves the user');
      });

      test('updateUser writes only on top of the version before it: a stale or repeated version changes nothing', async () => {
        const { a } = await twoOrgs();
        const u = user(a);
        await store.createUser(u);
        assert.equal(await store.updateUser({ ...u, name: 'Second', version: 2 }), true);
        assert.equal(await store.updateUser({ ...u, name: 'Racing', version: 2 }), false, 'another writer based on version 1 too');
        assert.equal(await store.updateUser({ ...u, name: 'Skipping', version: 4 }), false);
        assert.deepEqual(await store.getUser(a, u.id), { ...u, name: 'Second', version: 2 });
        assert.equal(await store.updateUser({ ...u, id: 'no-such-user', version: 2 }), false, 'a user that is gone');
      });

      test('deleteUser: scoped to its org, true once, and removes the user\'s group memberships', async () => {
        const { a, b } = await twoOrgs();
        const u = user(a);
        const keep = user(a);
        await store.createUser(u);
        await store.createUser(keep);
        const g = group(a, [u.id, keep.id]);
        await store.createGroup(g);

        assert.equal(await store.deleteUser(b, u.id), false, 'another org cannot delete it');
        assert.deepEqual(await store.getUser(a, u.id), u);

        assert.equal(await store.deleteUser(a, u.id), true);
        assert.equal(await store.getUser(a, u.id), null);
        assert.equal(await store.findUserByEmail(u.email), null);
        assert.equal(await store.deleteUser(a, u.id), false, 'a second delete finds nothing');
        assert.deepEqual((await store.getGroup(a, g.id))!.memberIds, [keep.id], 'membership went with the user');
        assert.deepEqual(await store.listGroupIdsOfUser(a, u.id), []);
        assert.deepEqual(await store.listGroupIdsOfUser(a, keep.id), [g.id]);

        // The email is free again.
        await store.createUser(user(b, { email: u.email }));
        assert.equal((await store.findUserByEmail(u.email))!.orgId, b);
      });
    });

    // ------------------------------------------------------------ groups

    describe('groups', () => {
      test('createGroup / getGroup round-trip; members must be users of the same org', async () => {
        const { a, b } = await twoOrgs();
        const a1 = user(a);
        const a2 = user(a);
        const b1 = user(b);
        for (const u of [a1, a2, b1]) await store.createUser(u);
        const g = group(a, [a1.id, b1.id, a2.id, 'no-such-user']);
        await store.createGroup(g);
        const got = await store.getGroup(a, g.id);
        assert.ok(got);
        assert.deepEqual({ ...got, memberIds: sorted(got.memberIds) }, { ...g, memberIds: sorted([a1.id, a2.id]) },
          'another org\'s user and unknown ids are not members');
        assert.deepEqual(await store.listGroupIdsOfUser(b, b1.id), []);
        assert.deepEqual(await store.listGroupIdsOfUser(a, b1.id), []);
        assert.equal(await store.getGroup(b, g.id), null, 'org b cannot read org a\'s group');
        assert.equal(await store.getGroup(a, 'no-such-group'), null);
        await assert.rejects(store.createGroup({ ...g, name: 'again' }), isConflict, 'a taken group id is a conflict');
      });

      test('listGroups and listGroupIdsOfUser stay within one org', async () => {
        const { a, b } = await twoOrgs();
        const a1 = user(a);
        const b1 = user(b);
        await store.createUser(a1);
        await store.createUser(b1);
        const g1 = group(a, [a1.id]);
        const g2 = group(a, [a1.id]);
        const g3 = group(a, []);
        const gb = group(b, [b1.id]);
        for (const g of [g1, g2, g3, gb]) await store.createGroup(g);
        assert.deepEqual(sorted((await store.listGroups(a)).map((g) => g.id)), sorted([g1.id, g2.id, g3.id]));
        assert.deepEqual((await store.listGroups(b)).map((g) => g.id), [gb.id]);
        assert.deepEqual((await store.listGroups(a)).find((g) => g.id === g1.id)!.memberIds, [a1.id], 'listed groups carry their members');
        assert.deepEqual(sorted(await store.listGroupIdsOfUser(a, a1.id)), sorted([g1.id, g2.id]));
        assert.deepEqual(await store.listGroupIdsOfUser(b, a1.id), [], 'asked through another org: nothing');
      });

      test('updateGroup replaces name, description and members (same-org users only); another org cannot update it', async () => {
        const { a, b } = await twoOrgs();
        const a1 = user(a);
        const a2 = user(a);
        const b1 = user(b);
        for (const u of [a1, a2, b1]) await store.createUser(u);
        const g = group(a, [a1.id]);
        await store.createGroup(g);

        const next: Group = {
          ...g, name: 'Renamed', description: 'changed', visibility: 'members', rulesVisible: true, memberIds: [a2.id, b1.id], version: 2, updatedAt: T0 + 9,
        };
        assert.equal(await store.updateGroup(next), true);
        assert.deepEqual(await store.getGroup(a, g.id), { ...next, memberIds: [a2.id] });
        assert.deepEqual(await store.listGroupIdsOfUser(a, a1.id), [], 'a1 was removed');
        assert.deepEqual(await store.listGroupIdsOfUser(a, a2.id), [g.id]);

        assert.equal(await store.updateGroup({ ...next, orgId: b, name: 'Hijacked', memberIds: [b1.id], version: 3 }), false);
        assert.deepEqual(await store.getGroup(a, g.id), { ...next, memberIds: [a2.id] }, 'an update naming another org changes nothing');
        assert.equal(await store.getGroup(b, g.id), null);

        assert.equal(await store.updateGroup({ ...next, memberIds: [], version: 2 }), false, 'version 2 again: stale, members kept');
        assert.deepEqual((await store.getGroup(a, g.id))!.memberIds, [a2.id]);
        assert.equal(await store.updateGroup({ ...next, memberIds: [], version: 3 }), true);
        assert.deepEqual((await store.getGroup(a, g.id))!.memberIds, []);
      });

      test('deleteGroup: scoped to its org, true once, memberships gone', async () => {
        const { a, b } = await twoOrgs();
        const a1 = user(a);
        await store.createUser(a1);
        const g = group(a, [a1.id]);
        await store.createGroup(g);
        assert.equal(await store.deleteGroup(b, g.id), false);
        assert.ok(await store.getGroup(a, g.id));
        assert.equal(await store.deleteGroup(a, g.id), true);
        assert.equal(await store.getGroup(a, g.id), null);
        assert.deepEqual(await store.listGroupIdsOfUser(a, a1.id), []);
        assert.equal(await store.deleteGroup(a, g.id), false);
        assert.deepEqual(await store.getUser(a, a1.id), a1, 'deleting a group keeps its users');
      });
    });

    // ------------------------------------------------------------ clients

    describe('clients', () => {
      test('createClient / getClient round-trip (client ids are global); a taken id is a conflict in any org', async () => {
        const { a, b } = await twoOrgs();
        const pub = client(a);
        const conf = client(a, {
          type: 'confidential', secretHash: 'c2VjcmV0LWhhc2g', grantTypes: ['client_credentials'], redirectUris: [],
          postLogoutRedirectUris: [], backchannelLogoutUri: 'https://crm.example.test/bcl', roles: ['admin'],
        });
        await store.createClient(pub);
        await store.createClient(conf);
        assert.deepEqual(await store.getClient(pub.id), pub);
        assert.deepEqual(await store.getClient(conf.id), conf);
        assert.equal(await store.getClient('no-such-client'), null);
        await assert.rejects(store.createClient(client(b, { id: pub.id })), isConflict);
        assert.equal((await store.getClient(pub.id))!.orgId, a, 'the refused create changed nothing');
      });

      test('listClients lists one org only', async () => {
        const { a, b } = await twoOrgs();
        const c1 = client(a);
        const c2 = client(a);
        const c3 = client(b);
        for (const c of [c1, c2, c3]) await store.createClient(c);
        assert.deepEqual(sorted((await store.listClients(a)).map((c) => c.id)), sorted([c1.id, c2.id]));
        assert.deepEqual(await store.listClients(b), [c3]);
        assert.deepEqual(await store.listClients('no-such-org'), []);
        const all = (await store.listAllClients()).map((c) => c.id);
        for (const c of [c1, c2, c3]) assert.ok(all.includes(c.id), 'listAllClients spans every org');
        assert.deepEqual((await store.getClient(c3.id))!.allowedOrigins, ['https://crm.example.test'], 'allowedOrigins round-trip');
      });

      test('updateClient changes a client of its own org only', async () => {
        const { a, b } = await twoOrgs();
        const c = client(a);
        await store.createClient(c);
        const next: Client = {
          ...c, name: 'Renamed', secretHash: 'bmV3', redirectUris: ['https://new.example.test/cb'], grantTypes: ['authorization_code'],
          postLogoutRedirectUris: [], backchannelLogoutUri: null, roles: ['supervisor'],
        };
        await store.updateClient(next);
        assert.deepEqual(await store.getClient(c.id), next);
        await store.updateClient({ ...next, orgId: b, name: 'Hijacked' });
        assert.deepEqual(await store.getClient(c.id), next, 'an update naming another org changes nothing');
      });

      test('deleteClient: scoped to its org, true once', async () => {
        const { a, b } = await twoOrgs();
        const c = client(a);
        await store.createClient(c);
        assert.equal(await store.deleteClient(b, c.id), false);
        assert.deepEqual(await store.getClient(c.id), c);
        assert.equal(await store.deleteClient(a, c.id), true);
        assert.equal(await store.getClient(c.id), null);
        assert.equal(await store.deleteClient(a, c.id), false);
        assert.deepEqual(await store.listClients(a), []);
      });
    });

    // ------------------------------------------------------------ signing keys

    test('signing keys round-trip, oldest first (the last one is the current key)', async () => {
      assert.deepEqual(await store.listSigningKeys(), []);
      const newer = { kid: uid('kid'), alg: 'RS256', privateJwk: JSON.stringify({ kty: 'RSA', n: 'bmV3ZXI', e: 'AQAB', d: 'c2VjcmV0' }), createdAt: T0 + 10 };
      const older = { kid: uid('kid'), alg: 'RS256', privateJwk: JSON.stringify({ kty: 'RSA', n: 'b2xkZXI', e: 'AQAB', d: 'b2xk' }), createdAt: T0 };
      await store.addSigningKey(newer);
      await store.addSigningKey(older);
      assert.deepEqual(await store.listSigningKeys(), [older, newer]);
    });

    // ------------------------------------------------------------ sign-in sessions

    test('sign-in sessions round-trip by token hash; unknown hash is null', async () => {
      const { a } = await twoOrgs();
      const u = user(a);
      await store.createUser(u);
      const s = session(a, u.id);
      const ended = session(a, u.id, { endedAt: T0 + 1 });
      await store.createSignInSession(s);
      await store.createSignInSession(ended);
      assert.deepEqual(await store.findSignInSessionByHash(s.tokenHash), s);
      assert.deepEqual(await store.findSignInSessionByHash(ended.tokenHash), ended);
      assert.equal(await store.findSignInSessionByHash('no-such-hash'), null);
      assert.equal(await store.findSignInSessionByHash(s.id), null, 'found by token hash, not by id');
      assert.deepEqual(await store.getSignInSession(s.id), s);
      assert.deepEqual(await store.getSignInSession(ended.id), ended, 'an ended session is still found by id (its auth_time)');
      assert.equal(await store.getSignInSession(s.tokenHash), null, 'found by id, not by token hash');
    });

    // ------------------------------------------------------------ authorization codes

    describe('authorization codes', () => {
      test('consumeAuthCode returns the code once, then null', async () => {
        const c = authCode('org-x', 'user-x', 'session-x');
        const noNonce = authCode('org-x', 'user-x', 'session-x', { nonce: null });
        await store.saveAuthCode(c);
        await store.saveAuthCode(noNonce);
        assert.deepEqual(await store.consumeAuthCode(c.hash, T0 + 1), c);
        assert.equal(await store.consumeAuthCode(c.hash, T0 + 2), null, 'second use');
        assert.equal(await store.consumeAuthCode(c.hash, T0 + 3), null, 'third use');
        assert.deepEqual(await store.consumeAuthCode(noNonce.hash, T0 + 1), noNonce, 'another code is unaffected');
        assert.equal(await store.consumeAuthCode('no-such-code', T0), null);
      });

      test('concurrent consumption: exactly one caller wins', async () => {
        const c = authCode('org-x', 'user-x', 'session-x');
        await store.saveAuthCode(c);
        const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeAuthCode(c.hash, T0 + 1)));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1, `exactly one of 8 concurrent calls gets the code, got ${winners.length}`);
        assert.deepEqual(winners[0], c);
      });

      test('an expired code is refused, and stays refused', async () => {
        const c = authCode('org-x', 'user-x', 'session-x', { expiresAt: T0 + 60_000 });
        await store.saveAuthCode(c);
        assert.equal(await store.consumeAuthCode(c.hash, T0 + 60_001), null);
        assert.equal(await store.consumeAuthCode(c.hash, T0 + 10 * 60_000), null);
        const fresh = authCode('org-x', 'user-x', 'session-x', { expiresAt: T0 + 60_000 });
        await store.saveAuthCode(fresh);
        assert.deepEqual(await store.consumeAuthCode(fresh.hash, T0 + 59_999), fresh, 'just before expiry it is still good');
      });
    });

    // ------------------------------------------------------------ access tokens

    describe('access tokens', () => {
      test('saveAccessToken / findAccessTokenByHash round-trip, user and client-credentials tokens', async () => {
        const userToken = accessToken('org-x', { userId: 'user-x', sessionId: 'session-x', scope: 'openid email' });
        const machineToken = accessToken('org-x', { userId: null, sessionId: null, scope: 'api' });
        await store.saveAccessToken(userToken);
        await store.saveAccessToken(machineToken);
        assert.deepEqual(await store.findAccessTokenByHash(userToken.hash), userToken);
        assert.deepEqual(await store.findAccessTokenByHash(machineToken.hash), machineToken);
        assert.equal(await store.findAccessTokenByHash(userToken.id), null, 'found by hash, not by id');
        assert.equal(await store.findAccessTokenByHash('no-such-hash'), null);
      });

      test('recordActivity moves last activity forward only, in one batch for many tokens', async () => {
        const t1 = accessToken('org-x', { lastActivityAt: T0 + 1000 });
        const t2 = accessToken('org-x', { lastActivityAt: T0 + 1000 });
        const t3 = accessToken('org-x', { lastActivityAt: T0 + 1000 });
        for (const t of [t1, t2, t3]) await store.saveAccessToken(t);

        await store.recordActivity([
          { id: t1.id, lastActivityAt: T0 + 5000, idleDeadlineAt: T0 + 5000 + 900_000 },
          { id: t2.id, lastActivityAt: T0 + 500, idleDeadlineAt: T0 + 500 + 900_000 },
          { id: 'no-such-token', lastActivityAt: T0 + 9000, idleDeadlineAt: T0 + 9000 + 900_000 },
        ]);
        assert.equal((await store.findAccessTokenByHash(t1.hash))!.lastActivityAt, T0 + 5000, 'forward: written');
        assert.equal((await store.findAccessTokenByHash(t2.hash))!.lastActivityAt, T0 + 1000, 'backward: ignored');
        assert.equal((await store.findAccessTokenByHash(t3.hash))!.lastActivityAt, T0 + 1000, 'not in the batch: untouched');

        await store.recordActivity([{ id: t1.id, lastActivityAt: T0 + 4000, idleDeadlineAt: T0 + 4000 + 900_000 }]);
        assert.equal((await store.findAccessTokenByHash(t1.hash))!.lastActivityAt, T0 + 5000, 'a late, older write-back cannot move it back');

        await store.recordActivity([{ id: t1.id, lastActivityAt: T0 + 6000, idleDeadlineAt: T0 + 6000 + 900_000 }, { id: t1.id, lastActivityAt: T0 + 5500, idleDeadlineAt: T0 + 5500 + 900_000 }]);
        assert.equal((await store.findAccessTokenByHash(t1.hash))!.lastActivityAt, T0 + 6000, 'the newest time in a batch wins');

        await store.recordActivity([]);
        const after = await store.findAccessTokenByHash(t1.hash);
        assert.deepEqual(after, { ...t1, lastActivityAt: T0 + 6000, idleDeadlineAt: T0 + 6000 + 900_000 }, 'nothing but last activity and its deadline changed');
      });
    });

    // ------------------------------------------------------------ refresh tokens

    describe('refresh tokens', () => {
      test('saveRefreshToken / findRefreshTokenByHash round-trip', async () => {
        const rt = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(rt);
        assert.deepEqual(await store.findRefreshTokenByHash(rt.hash), rt);
        assert.equal(await store.findRefreshTokenByHash(rt.id), null, 'found by hash, not by id');
        assert.equal(await store.findRefreshTokenByHash('no-such-hash'), null);
      });

      test('rotateRefreshToken marks the previous token rotated and stores the next one', async () => {
        const first = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(first);
        const second = refreshToken('org-x', 'user-x', { grantId: first.grantId, sessionId: first.sessionId, issuedAt: T0 + 10 });
        assert.equal(await store.rotateRefreshToken(first.id, second, T0 + 10), true);
        assert.deepEqual(await store.findRefreshTokenByHash(first.hash), { ...first, rotatedAt: T0 + 10 });
        assert.deepEqual(await store.findRefreshTokenByHash(second.hash), second);

        const third = refreshToken('org-x', 'user-x', { grantId: first.grantId, sessionId: first.sessionId, issuedAt: T0 + 20 });
        assert.equal(await store.rotateRefreshToken(second.id, third, T0 + 20), true, 'the new token rotates in turn');
        assert.equal((await store.findRefreshTokenByHash(second.hash))!.rotatedAt, T0 + 20);
      });

      test('rotating an already-rotated token returns false and stores nothing', async () => {
        const first = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(first);
        const second = refreshToken('org-x', 'user-x', { grantId: first.grantId });
        assert.equal(await store.rotateRefreshToken(first.id, second, T0 + 10), true);
        const replay = refreshToken('org-x', 'user-x', { grantId: first.grantId });
        assert.equal(await store.rotateRefreshToken(first.id, replay, T0 + 20), false);
        assert.equal(await store.findRefreshTokenByHash(replay.hash), null, 'the reused rotation stored nothing');
        assert.equal((await store.findRefreshTokenByHash(first.hash))!.rotatedAt, T0 + 10, 'the first rotation time is kept');
      });

      test('rotating a revoked token (or an unknown one) returns false and stores nothing', async () => {
        const rt = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(rt);
        await store.revoke({ grantId: rt.grantId }, T0 + 5, 'logout');
        const next = refreshToken('org-x', 'user-x', { grantId: rt.grantId });
        assert.equal(await store.rotateRefreshToken(rt.id, next, T0 + 10), false);
        assert.equal(await store.findRefreshTokenByHash(next.hash), null);
        assert.equal((await store.findRefreshTokenByHash(rt.hash))!.rotatedAt, null);

        const orphan = refreshToken('org-x', 'user-x');
        assert.equal(await store.rotateRefreshToken('no-such-token', orphan, T0 + 10), false);
        assert.equal(await store.findRefreshTokenByHash(orphan.hash), null);

        const preRevoked = refreshToken('org-x', 'user-x', { revokedAt: T0 });
        await store.saveRefreshToken(preRevoked);
        const next2 = refreshToken('org-x', 'user-x');
        assert.equal(await store.rotateRefreshToken(preRevoked.id, next2, T0 + 10), false);
        assert.equal(await store.findRefreshTokenByHash(next2.hash), null);
      });

      test('concurrent rotations of one token: exactly one wins and only its successor is stored', async () => {
        const rt = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(rt);
        const nexts = Array.from({ length: 8 }, () => refreshToken('org-x', 'user-x', { grantId: rt.grantId }));
        const results = await Promise.all(nexts.map((n) => store.rotateRefreshToken(rt.id, n, T0 + 10)));
        assert.equal(results.filter(Boolean).length, 1, `exactly one of 8 concurrent rotations wins, got ${results.filter(Boolean).length}`);
        const stored = await Promise.all(nexts.map((n) => store.findRefreshTokenByHash(n.hash)));
        assert.deepEqual(stored.map((s) => s !== null), results, 'the winner\'s successor is stored, no loser\'s');
      });

      test('rotation is atomic: when the successor cannot be stored, the previous token is not marked rotated', async () => {
        const rt = refreshToken('org-x', 'user-x');
        const existing = refreshToken('org-x', 'user-x');
        await store.saveRefreshToken(rt);
        await store.saveRefreshToken(existing);
        const clash = refreshToken('org-x', 'user-x', { id: existing.id });
        await assert.rejects(store.rotateRefreshToken(rt.id, clash, T0 + 10));
        assert.equal((await store.findRefreshTokenByHash(rt.hash))!.rotatedAt, null, 'the failed rotation was rolled back');
        assert.equal(await store.findRefreshTokenByHash(clash.hash), null);
        const good = refreshToken('org-x', 'user-x');
        assert.equal(await store.rotateRefreshToken(rt.id, good, T0 + 20), true, 'the token can still be rotated properly');
      });
    });

    // ------------------------------------------------------------ revoke

    describe('revoke', () => {
      /**
       * One user U1 with two sign-in sessions (S1, S2) and two clients (C1, C2); a second user U2
       * on C1; a client-credentials token of C3; a token of another org's user.
       */
      async function world() {
        const { a, b } = await twoOrgs();
        const [u1, u2, ub] = [user(a), user(a), user(b)];
        for (const u of [u1, u2, ub]) await store.createUser(u);
        const [c1, c2, c3] = [client(a), client(a), client(a, { type: 'confidential', grantTypes: ['client_credentials'] })];
        for (const c of [c1, c2, c3]) await store.createClient(c);
        const s1 = session(a, u1.id);
        const s2 = session(a, u1.id);
        const s3 = session(a, u2.id);
        const sb = session(b, ub.id);
        for (const s of [s1, s2, s3, sb]) await store.createSignInSession(s);

        const grant = (userId: string, clientId: string, sessionId: string) => {
          const grantId = uid('grant');
          const at = accessToken(a, { userId, clientId, sessionId, grantId });
          const rt = refreshToken(a, userId, { clientId, sessionId, grantId });
          return { grantId, at, rt };
        };
        const g1 = grant(u1.id, c1.id, s1.id); // U1 in C1 through S1
        const g1b = accessToken(a, { userId: u1.id, clientId: c1.id, sessionId: s1.id, grantId: g1.grantId }); // refreshed access token of g1
        const g1rt2 = refreshToken(a, u1.id, { clientId: c1.id, sessionId: s1.id, grantId: g1.grantId }); // the rotated-to refresh token
        const g2 = grant(u1.id, c2.id, s1.id); // U1 in C2 through the same session
        const g3 = grant(u1.id, c1.id, s2.id); // U1 in C1 through another session
        const g4 = grant(u2.id, c1.id, s3.id); // U2 in C1
        const machine = accessToken(a, { userId: null, clientId: c3.id, sessionId: null });
        const other = grant(ub.id, uid('client'), sb.id); // another org

        for (const t of [g1.at, g1b, g2.at, g3.at, g4.at, machine, other.at]) await store.saveAccessToken(t);
        for (const t of [g1.rt, g2.rt, g3.rt, g4.rt, other.rt]) await store.saveRefreshToken(t);
        assert.equal(await store.rotateRefreshToken(g1.rt.id, g1rt2, T0 + 1), true);

        const allAccess = [g1.at, g1b, g2.at, g3.at, g4.at, machine, other.at];
        const allRefresh = [g1.rt, g1rt2, g2.rt, g3.rt, g4.rt, other.rt];
        const allSessions = [s1, s2, s3, sb];
        return { a, u1, u2, c1, c2, c3, s1, s2, s3, sb, g1, g1b, g1rt2, g2, g3, g4, machine, other, allAccess, allRefresh, allSessions };
      }
      type World = Awaited<ReturnType<typeof world>>;

      /** Checks the RevokedSet, the stored state of every row, and that a second call revokes nothing. */
      async function expectRevoked(
        w: World, selection: Parameters<Store['revoke']>[0],
        expected: { access: AccessToken[]; refresh: RefreshToken[]; sessions: SignInSession[] },
      ) {
        const now = T0 + 100;
        const set = await store.revoke(selection, now, 'logout');
        assert.deepEqual(ids(set), {
          accessTokens: sorted(expected.access.map((t) => t.id)),
          refreshTokenIds: sorted(expected.refresh.map((t) => t.id)),
          signInSessionIds: sorted(expected.sessions.map((s) => s.id)),
        }, `RevokedSet of ${JSON.stringify(selection)}`);
        for (const t of expected.access) {
          const entry = set.accessTokens.find((e) => e.id === t.id)!;
          assert.deepEqual(
            { ...entry },
            { id: t.id, hash: t.hash, orgId: t.orgId, userId: t.userId, clientId: t.clientId, sessionId: t.sessionId, grantId: t.grantId },
            'each revoked access token is described by id, hash, org, user, client, session and grant',
          );
        }

        for (const t of w.allAccess) {
          const stored = (await store.findAccessTokenByHash(t.hash))!;
          if (expected.access.includes(t)) {
            assert.equal(stored.revokedAt, now, `access token ${t.id} revoked`);
            assert.equal(stored.revokeReason, 'logout');
          } else {
            assert.equal(stored.revokedAt, null, `access token ${t.id} must stay live`);
            assert.equal(stored.revokeReason, null);
          }
        }
        for (const t of w.allRefresh) {
          const stored = (await store.findRefreshTokenByHash(t.hash))!;
          assert.equal(stored.revokedAt, expected.refresh.includes(t) ? now : null, `refresh token ${t.id}`);
        }
        for (const s of w.allSessions) {
          const stored = (await store.findSignInSessionByHash(s.tokenHash))!;
          assert.equal(stored.endedAt, expected.sessions.includes(s) ? now : null, `sign-in session ${s.id}`);
        }

        assert.deepEqual(await store.revoke(selection, now + 50, 'logout'), EMPTY, 'a second call revokes nothing more');
        for (const t of expected.access) {
          assert.equal((await store.findAccessTokenByHash(t.hash))!.revokedAt, now, 'the second call keeps the first revocation time');
        }
        return set;
      }

      test('{accessTokenId}: that one access token, nothing else', async () => {
        const w = await world();
        await expectRevoked(w, { accessTokenId: w.g1.at.id }, { access: [w.g1.at], refresh: [], sessions: [] });
        assert.deepEqual(await store.revoke({ accessTokenId: 'no-such-token' }, T0, 'revocation'), EMPTY);
      });

      test('{grantId}: every access and refresh token of the grant (rotated ones included), no session', async () => {
        const w = await world();
        await expectRevoked(w, { grantId: w.g1.grantId }, { access: [w.g1.at, w.g1b], refresh: [w.g1.rt, w.g1rt2], sessions: [] });
        assert.equal(await store.rotateRefreshToken(w.g1rt2.id, refreshToken(w.a, w.u1.id), T0 + 200), false, 'a revoked grant cannot be refreshed');
      });

      test('{signInSessionId, clientId}: that client\'s tokens through that session, and the session; other clients of the session keep theirs', async () => {
        const w = await world();
        await expectRevoked(w, { signInSessionId: w.s1.id, clientId: w.c1.id },
          { access: [w.g1.at, w.g1b], refresh: [w.g1.rt, w.g1rt2], sessions: [w.s1] });
      });

      test('{clientId}: every token of the client, every user and session; no sign-in session ends', async () => {
        const w = await world();
        await expectRevoked(w, { clientId: w.c1.id },
          { access: [w.g1.at, w.g1b, w.g3.at, w.g4.at], refresh: [w.g1.rt, w.g1rt2, w.g3.rt, w.g4.rt], sessions: [] });
      });

      test('{clientId} of a client-credentials client revokes its machine tokens', async () => {
        const w = await world();
        await expectRevoked(w, { clientId: w.c3.id }, { access: [w.machine], refresh: [], sessions: [] });
      });

      test('{userId}: all of the user\'s tokens of every client and all the user\'s sign-in sessions', async () => {
        const w = await world();
        await expectRevoked(w, { userId: w.u1.id },
          { access: [w.g1.at, w.g1b, w.g2.at, w.g3.at], refresh: [w.g1.rt, w.g1rt2, w.g2.rt, w.g3.rt], sessions: [w.s1, w.s2] });
      });

      test('already-revoked rows are not reported or re-stamped by a wider revocation', async () => {
        const w = await world();
        const first = await store.revoke({ accessTokenId: w.g1.at.id }, T0 + 10, 'revocation');
        assert.deepEqual(ids(first).accessTokens, [w.g1.at.id]);
        const wider = await store.revoke({ userId: w.u1.id }, T0 + 20, 'admin_logoff');
        assert.ok(!wider.accessTokens.some((t) => t.id === w.g1.at.id), 'the earlier revoked token is not reported again');
        assert.deepEqual(sorted(wider.accessTokens.map((t) => t.id)), sorted([w.g1b.id, w.g2.at.id, w.g3.at.id]));
        const kept = (await store.findAccessTokenByHash(w.g1.at.hash))!;
        assert.equal(kept.revokedAt, T0 + 10);
        assert.equal(kept.revokeReason, 'revocation', 'the first reason is kept');
        assert.equal((await store.findAccessTokenByHash(w.g1b.hash))!.revokeReason, 'admin_logoff');
      });
    });

    // ------------------------------------------------------------ idle expiry, user status, interactions

    describe('idle expiry, user status and interactions', () => {
      test('listLiveAccessTokens: every unrevoked, unexpired token of every user and org, machine tokens included', async () => {
        const now = T0 + HOUR;
        const u1 = accessToken('org-x', { userId: 'u1' });
        const u2 = accessToken('org-y', { userId: 'u2' });
        const machine = accessToken('org-x', { userId: null });
        const revoked = accessToken('org-x', { userId: 'u1', revokedAt: T0, revokeReason: 'logout' });
        const expired = accessToken('org-x', { userId: 'u1', expiresAt: now - 1 });
        for (const t of [u1, u2, machine, revoked, expired]) await store.saveAccessToken(t);
        const live = await store.listLiveAccessTokens(now);
        assert.deepEqual(sorted(live.map((t) => t.id)), sorted([u1.id, u2.id, machine.id]));
        assert.deepEqual(live.find((t) => t.id === machine.id), machine);
      });

      test('expireIdleTokens: revokes each token and its grant\'s refresh tokens, ends sessions and sets users offline as told, audits each, skips revoked ones', async () => {
        const { a } = await twoOrgs();
        const u1 = user(a);
        const u2 = user(a);
        await store.createUser(u1);
        await store.createUser(u2);
        const s1 = session(a, u1.id);
        const s2 = session(a, u2.id);
        await store.createSignInSession(s1);
        await store.createSignInSession(s2);
        const t1 = accessToken(a, { userId: u1.id, clientId: 'c1', sessionId: s1.id });
        const rt1 = refreshToken(a, u1.id, { grantId: t1.grantId, clientId: 'c1', sessionId: s1.id });
        const t2 = accessToken(a, { userId: u2.id, clientId: 'c2', sessionId: s2.id });
        const keep = accessToken(a, { userId: u1.id, clientId: 'c3', sessionId: s1.id });
        const gone = accessToken(a, { userId: u2.id, revokedAt: T0 + 1, revokeReason: 'logout' });
        for (const t of [t1, t2, keep, gone]) await store.saveAccessToken(t);
        await store.saveRefreshToken(rt1);

        const pick = (t: AccessToken) => ({ id: t.id, orgId: t.orgId, userId: t.userId, clientId: t.clientId, grantId: t.grantId, sessionId: t.sessionId });
        const now = T0 + 2 * HOUR;
        const expired = await store.expireIdleTokens([
          { token: pick(t1), deadline: now - 1000, endSignInSession: false, setUserOffline: false },
          { token: pick(t2), deadline: now - 10, endSignInSession: true, setUserOffline: true },
          { token: pick(gone), deadline: now - 10, endSignInSession: true, setUserOffline: true },
        ], now);
        assert.deepEqual(sorted(expired), sorted([t1.id, t2.id]), 'an already-revoked token is skipped');

        for (const t of [t1, t2]) {
          const stored = (await store.findAccessTokenByHash(t.hash))!;
          assert.equal(stored.revokedAt, now);
          assert.equal(stored.revokeReason, 'idle_timeout');
        }
        assert.equal((await store.findAccessTokenByHash(keep.hash))!.revokedAt, null, 'tokens not in the batch stay live');
        assert.equal((await store.findAccessTokenByHash(gone.hash))!.revokeReason, 'logout', 'the earlier reason is kept');
        assert.equal((await store.findRefreshTokenByHash(rt1.hash))!.revokedAt, now, 'the grant\'s refresh token is revoked');
        assert.equal((await store.findSignInSessionByHash(s1.tokenHash))!.endedAt, null, 'endSignInSession false: the session stays');
        assert.equal((await store.findSignInSessionByHash(s2.tokenHash))!.endedAt, now);
        assert.equal(await store.getUserStatus(a, u1.id), null, 'setUserOffline false: status untouched');
        const status = (await store.getUserStatus(a, u2.id))!;
        assert.equal(status.presence, 'Offline');
        assert.equal(status.routingStatus, 'OFF_QUEUE');

        const audits = (await store.listAudit(a, { kind: 'idle_timeout' })).entries;
        assert.deepEqual(sorted(audits.map((e) => e.userId!)), sorted([u1.id, u2.id]), 'one audit entry per expired token');
        assert.deepEqual(sorted(audits.map((e) => e.clientId!)), ['c1', 'c2']);
        assert.ok(audits.every((e) => e.at === now));

        assert.deepEqual(await store.expireIdleTokens([{ token: pick(t1), deadline: now, endSignInSession: true, setUserOffline: true }], now + 5), [],
          'expiring again does nothing');
        assert.equal((await store.listAudit(a, { kind: 'idle_timeout' })).total, 2);
      });

      test('user status: save upserts, get is org-scoped', async () => {
        const { a, b } = await twoOrgs();
        assert.equal(await store.getUserStatus(a, 'u1'), null);
        const status = { userId: 'u1', orgId: a, presence: 'Available' as const, presenceAt: T0, routingStatus: 'IDLE' as const, routingAt: T0 + 1 };
        await store.saveUserStatus(status);
        assert.deepEqual(await store.getUserStatus(a, 'u1'), status);
        assert.equal(await store.getUserStatus(b, 'u1'), null, 'another org cannot read it');
        const next = { ...status, presence: 'Busy' as const, presenceAt: T0 + 5, routingStatus: 'INTERACTING' as const, routingAt: T0 + 6 };
        await store.saveUserStatus(next);
        assert.deepEqual(await store.getUserStatus(a, 'u1'), next);
      });

      test('interactions: save upserts by (user, id), delete is true once, list returns the open ones', async () => {
        const voice = { userId: 'u1', id: 'i1', orgId: 'org-x', type: 'voice' as const, state: 'connected' as const, updatedAt: T0 };
        const email = { userId: 'u1', id: 'i2', orgId: 'org-x', type: 'email' as const, state: 'held' as const, updatedAt: T0 };
        const otherUser = { userId: 'u2', id: 'i1', orgId: 'org-x', type: 'chat' as const, state: 'connected' as const, updatedAt: T0 };
        for (const i of [voice, email, otherUser]) await store.saveInteraction(i);
        const key = (i: { userId: string; id: string }) => `${i.userId}/${i.id}`;
        const list = async () => (await store.listInteractions()).sort((x, y) => key(x).localeCompare(key(y)));
        assert.deepEqual(await list(), [voice, email, otherUser]);

        const acw = { ...voice, state: 'acw' as const, updatedAt: T0 + 10 };
        await store.saveInteraction(acw);
        assert.deepEqual(await list(), [acw, email, otherUser], 'same user and id: updated in place');

        assert.equal(await store.deleteInteraction('u1', 'i1'), true);
        assert.equal(await store.deleteInteraction('u1', 'i1'), false);
        assert.deepEqual(await list(), [email, otherUser], 'the other user\'s interaction with the same id stays');
      });
    });

    // ------------------------------------------------------------ audit

    describe('audit log', () => {
      test('appendAudit / listAudit: newest first, whole entries with ids, one org only', async () => {
        const { a, b } = await twoOrgs();
        await store.appendAudit({ orgId: a, at: T0 + 1, kind: 'login', userId: 'u1', clientId: 'c1', details: { sessionId: 's1', nested: { n: 1, list: [1, 'x'] } } });
        await store.appendAudit({ orgId: a, at: T0 + 3, kind: 'logout', userId: 'u1', clientId: 'c1', details: {} });
        await store.appendAudit({ orgId: a, at: T0 + 2, kind: 'settings_changed', userId: null, clientId: null, details: { changed: ['universalLogout'] } });
        await store.appendAudit({ orgId: b, at: T0 + 4, kind: 'login', userId: 'ub', clientId: 'cb', details: {} });

        const { entries: all, total } = await store.listAudit(a, {});
        assert.equal(total, 3);
        assert.deepEqual(all.map((e) => e.at), [T0 + 3, T0 + 2, T0 + 1], 'newest first, other org absent');
        assert.ok(all.every((e) => typeof e.id === 'number' && e.orgId === a));
        assert.equal(new Set(all.map((e) => e.id)).size, 3, 'ids are distinct');
        const { id: _id, ...login } = all[2]!;
        assert.deepEqual(login, { orgId: a, at: T0 + 1, kind: 'login', userId: 'u1', clientId: 'c1', details: { sessionId: 's1', nested: { n: 1, list: [1, 'x'] } } });
        const { id: _id2, ...settings } = all[1]!;
        assert.deepEqual(settings, { orgId: a, at: T0 + 2, kind: 'settings_changed', userId: null, clientId: null, details: { changed: ['universalLogout'] } });
        assert.deepEqual((await store.listAudit(b, {})).entries.map((e) => e.userId), ['ub']);
        assert.deepEqual(await store.listAudit('no-such-org', {}), { entries: [], total: 0 });
      });

      test('entries at the same millisecond: the later-appended one is listed first', async () => {
        const { a } = await twoOrgs();
        for (const kind of ['first', 'second', 'third']) {
          await store.appendAudit({ orgId: a, at: T0, kind, userId: null, clientId: null, details: {} });
        }
        assert.deepEqual((await store.listAudit(a, {})).entries.map((e) => e.kind), ['third', 'second', 'first']);
      });

      test('filters: userId, kind, from, to (inclusive), limit, offset, and combinations; total counts the whole match', async () => {
        const { a, b } = await twoOrgs();
        const add = (at: number, kind: string, userId: string | null) =>
          store.appendAudit({ orgId: a, at: T0 + at, kind, userId, clientId: null, details: { at } });
        await add(10, 'login', 'u1');
        await add(20, 'logout', 'u1');
        await add(30, 'login', 'u2');
        await add(40, 'idle_timeout', 'u1');
        await add(50, 'logout', 'u2');
        await add(60, 'login', 'u1');
        await store.appendAudit({ orgId: b, at: T0 + 35, kind: 'login', userId: 'u1', clientId: null, details: {} });
        const at = async (f: Parameters<Store['listAudit']>[1]) => (await store.listAudit(a, f)).entries.map((e) => e.at - T0);

        assert.deepEqual(await at({ userId: 'u1' }), [60, 40, 20, 10]);
        assert.deepEqual(await at({ kind: 'login' }), [60, 30, 10]);
        assert.deepEqual(await at({ from: T0 + 30 }), [60, 50, 40, 30], 'from is inclusive');
        assert.deepEqual(await at({ to: T0 + 30 }), [30, 20, 10], 'to is inclusive');
        assert.deepEqual(await at({ from: T0 + 20, to: T0 + 50 }), [50, 40, 30, 20]);
        assert.deepEqual(await at({ limit: 2 }), [60, 50], 'limit keeps the newest');
        assert.deepEqual(await at({ limit: 2, offset: 2 }), [40, 30], 'offset skips the newer ones');
        assert.deepEqual(await at({ limit: 2, offset: 6 }), [], 'past the end');
        assert.equal((await store.listAudit(a, { userId: 'u1', limit: 1, offset: 1 })).total, 4, 'total ignores the page');
        assert.deepEqual(await at({ userId: 'u1', kind: 'login' }), [60, 10]);
        assert.deepEqual(await at({ userId: 'u1', from: T0 + 15, to: T0 + 45, limit: 1 }), [40]);
        assert.deepEqual(await at({ userId: 'nobody' }), []);
        assert.deepEqual(await at({ from: T0 + 61 }), []);
      });
    });
  });
}
