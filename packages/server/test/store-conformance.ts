/**
 * The Store conformance suite. Every Store implementation runs it unchanged:
 *
 *   runStoreConformance('PostgresStore', async () => { ...; return { store, anotherNode, cleanup } });
 *
 * Each test gets a fresh, empty store from `makeStore` and calls `cleanup` afterwards; tests of what
 * several nodes do at once open a second Store on the same database with `anotherNode`.
 * The suite talks to the Store interface only, never to SQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  DEFAULT_ORG_SETTINGS, type AccessToken, type AuthCode, type BackchannelAttempt, type BackchannelLogout, type Client, type Group,
  type OrgSettings, type RefreshToken, type SignInSession, type User,
  type RevokedSet,
} from '../src/core/records.ts';
import { StoreConflictError, type Store } from '../src/store/store.ts';
import { storeTruthConformance } from './store-conformance-truth.ts';

/**
 * A fresh, empty store; `anotherNode` opens a second Store on the same database, as another node of a cluster
 * would (the suite closes it), and `cleanup` removes the database.
 */
export type StoreFactory = () => Promise<{ store: Store; anotherNode(): Promise<Store>; cleanup(): Promise<void> }>;

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

const retry = (nextAttemptAt: number): BackchannelAttempt =>
  ({ outcome: 'retry', result: 'http_status', statusCode: 503, error: null, nextAttemptAt });
const delivered: BackchannelAttempt = { outcome: 'delivered', result: 'delivered', statusCode: 200, error: null, nextAttemptAt: null };

function outboxRow(orgId: string, clientId: string, over: Partial<BackchannelLogout> = {}): BackchannelLogout {
  return {
    id: uid('jti'), orgId, clientId, uri: 'https://rp.example.test/backchannel-logout', userId: 'user-x', sessionId: null,
    reason: 'logout', createdAt: T0, nextAttemptAt: T0, attempts: 0, status: 'pending', ...over,
  };
}

const sorted = (xs: string[]) => [...xs].sort();
const isConflict = (err: unknown) => err instanceof StoreConflictError;
const EMPTY: RevokedSet = { accessTokens: [], refreshTokenIds: [], signInSessionIds: [], logSeq: 0 };

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
    let openAnother: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    let others: Store[] = [];

    beforeEach(async () => {
      ({ store, anotherNode: openAnother, cleanup } = await makeStore());
    });
    afterEach(async () => {
      for (const other of others) await other.close();
      others = [];
      await cleanup();
    });

    /** A second node on the same database, closed after the test. */
    async function anotherNode() {
      const other = await openAnother();
      others.push(other);
      return other;
    }

    storeTruthConformance({
      store: () => store,
      anotherNode,
      newOrg: async () => {
        const o = org();
        await store.createOrg(o, DEFAULT_ORG_SETTINGS);
        return o.id;
      },
    });

    /** Two orgs, so every org-scoped getter can be asked about the other org's rows. */
    async function twoOrgs() {
      const a = org();
      const b = org();
      await store.createOrg(a, DEFAULT_ORG_SETTINGS);
      await store.createOrg(b, DEFAULT_ORG_SETTINGS);
      return { a: a.id, b: b.id };
    }

    /** Outbox rows reach a store only with a revocation: here one that names nothing. */
    async function enqueue(...rows: BackchannelLogout[]) {
      await store.revoke({ accessTokenId: uid('no-such-token') }, T0, 'logout', () => ({ outbox: rows }));
    }

    /** Claims what is due at `now` for five minutes, as a node's deliverer would; the ids, in the order handed out. */
    const claimIds = async (now: number, limit = 100, except?: { uris?: string[] }, from: Store = store) =>
      (await from.claimBackchannelLogouts(now, limit, now + 5 * MINUTE, except)).map((o) => o.id);

    // ------------------------------------------------------------ orgs and settings

    describe('orgs and org settings', () => {
      test('pendingMigrations: none on a store that opened (opening migrates)', async () => {
        assert.equal(await store.pendingMigrations(), 0);
        assert.equal(await (await anotherNode()).pendingMigrations(), 0, 'nor on a second node of the same database');
      });

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

    describe('signing keys', () => {
      const key = (createdAt: number) =>
        ({ kid: uid('kid'), alg: 'RS256', privateJwk: JSON.stringify({ kty: 'RSA', n: uid('n'), e: 'AQAB', d: 'c2VjcmV0' }), createdAt });

      test('ensureSigningKey stores the candidate on an empty store and returns the stored key ever after', async () => {
        assert.deepEqual(await store.listSigningKeys(), []);
        const first = key(T0);
        assert.deepEqual(await store.ensureSigningKey(first), first);
        assert.deepEqual(await store.ensureSigningKey(key(T0 - 10)), first, 'a later candidate, even an older-dated one, is not stored');
        assert.deepEqual(await store.listSigningKeys(), [first]);
      });

      test('nodes starting together on an empty store agree on one key', async () => {
        const node2 = await anotherNode();
        const candidates = Array.from({ length: 6 }, (_, i) => key(T0 + i));
        const answers = await Promise.all(candidates.map((c, i) => (i % 2 ? node2 : store).ensureSigningKey(c)));
        assert.equal(new Set(answers.map((k) => k.kid)).size, 1, 'every call returns the same key');
        assert.ok(candidates.some((c) => c.kid === answers[0]!.kid), 'one of the candidates');
        assert.deepEqual(await store.listSigningKeys(), [answers[0]], 'and only it is stored');
        assert.deepEqual(await node2.listSigningKeys(), [answers[0]]);
      });
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

      // -------------------------------------------------------- what commits with a revocation (extras)

      test('extras commit with the revocation: the audit entry, the outbox rows and the user set offline; extras sees the revoked set', async () => {
        const w = await world();
        const now = T0 + 100;
        const logouts = [outboxRow(w.a, w.c1.id, { userId: w.u1.id, sessionId: w.s1.id, nextAttemptAt: now }),
          outboxRow(w.a, w.c2.id, { userId: w.u1.id, sessionId: w.s2.id, nextAttemptAt: now })];
        let seen: Omit<RevokedSet, 'logSeq'> | undefined;
        const set = await store.revoke({ userId: w.u1.id }, now, 'universal_logout', (revoked) => {
          const { logSeq: _drawnAtCommit, ...rest } = structuredClone(revoked) as RevokedSet;
          seen = rest;
          return {
            audit: { orgId: w.a, at: now, kind: 'universal_logout', userId: w.u1.id, clientId: w.c1.id, details: { accessTokenIds: revoked.accessTokens.map((t) => t.id) } },
            outbox: logouts,
            setUserOffline: { orgId: w.a, userId: w.u1.id },
          };
        });
        const { logSeq: _appendedLast, ...revokedSet } = set;
        assert.deepEqual(seen, revokedSet, 'extras is handed what revoke returns (the log seq is drawn at commit)');
        assert.deepEqual(ids(set).accessTokens, sorted([w.g1.at.id, w.g1b.id, w.g2.at.id, w.g3.at.id]));

        const { entries } = await store.listAudit(w.a, { kind: 'universal_logout' });
        assert.equal(entries.length, 1);
        assert.deepEqual(sorted(entries[0]!.details.accessTokenIds as string[]), ids(set).accessTokens);
        assert.deepEqual(sorted(await claimIds(now)), sorted(logouts.map((o) => o.id)));
        assert.deepEqual(await store.getUserStatus(w.a, w.u1.id),
          { userId: w.u1.id, orgId: w.a, presence: 'Offline', presenceAt: now, routingStatus: 'OFF_QUEUE', routingAt: now });
        assert.equal(await store.getUserStatus(w.a, w.u2.id), null, 'only the named user goes offline');
      });

      test('clientSessions: the revoked credentials\' (client, session) pairs and those of every token issued through an ended session, live or not', async () => {
        const w = await world();
        // Revoked before, through S2 by C2: only ending S2 ties U1 to C2 there.
        const earlier = accessToken(w.a, { userId: w.u1.id, clientId: w.c2.id, sessionId: w.s2.id, revokedAt: T0 + 1, revokeReason: 'logout' });
        await store.saveAccessToken(earlier);
        const pair = (t: { clientId: string; sessionId: string | null }) => `${t.clientId} / ${t.sessionId}`;
        const tiesOf = async (selection: Parameters<Store['revoke']>[0], now: number) => {
          let ties: string[] = [];
          await store.revoke(selection, now, 'universal_logout', (_revoked, clientSessions) => {
            ties = sorted(clientSessions().map(pair));
            assert.deepEqual(sorted(clientSessions().map(pair)), ties, 'asking twice answers the same');
            return {};
          });
          return ties;
        };

        assert.deepEqual(await tiesOf({ signInSessionId: w.s1.id, clientId: w.c1.id }, T0 + 100),
          sorted([pair({ clientId: w.c1.id, sessionId: w.s1.id }), pair({ clientId: w.c2.id, sessionId: w.s1.id })]),
          'C2 keeps its tokens through S1, but S1 ended: C2 is tied to the user through S1 too');
        assert.deepEqual(await tiesOf({ userId: w.u1.id }, T0 + 200),
          sorted([pair({ clientId: w.c2.id, sessionId: w.s1.id }), pair({ clientId: w.c1.id, sessionId: w.s2.id }),
            pair({ clientId: w.c2.id, sessionId: w.s2.id })]),
          'U1\'s credentials still live, and every token of the session that ended now (S2, the earlier revoked one included); '
            + 'not what the first revocation ended, nor U2\'s or the machine\'s');
        assert.deepEqual(await tiesOf({ clientId: w.c3.id }, T0 + 300), [pair({ clientId: w.c3.id, sessionId: null })],
          'a machine token has no session');
      });

      test('an extras that throws rolls the whole revocation back: nothing revoked, nothing of extras written', async () => {
        const w = await world();
        const now = T0 + 100;
        await assert.rejects(store.revoke({ userId: w.u1.id }, now, 'universal_logout', (revoked) => {
          assert.ok(revoked.accessTokens.length > 0, 'extras ran after the tokens were revoked');
          throw new Error('extras failed');
        }), /extras failed/);
        for (const t of w.allAccess) assert.equal((await store.findAccessTokenByHash(t.hash))!.revokedAt, null, `access token ${t.id} is live`);
        for (const t of w.allRefresh) assert.equal((await store.findRefreshTokenByHash(t.hash))!.revokedAt, null, `refresh token ${t.id} is live`);
        for (const s of w.allSessions) assert.equal((await store.findSignInSessionByHash(s.tokenHash))!.endedAt, null, `sign-in session ${s.id} goes on`);

        const set = await store.revoke({ userId: w.u1.id }, now + 1, 'universal_logout');
        assert.equal(set.accessTokens.length, 4, 'a later revocation finds all of it still live');
      });

      test('when writing extras fails (an outbox id taken), the revocation and the rest of extras roll back', async () => {
        const w = await world();
        const taken = outboxRow(w.a, w.c1.id, { nextAttemptAt: T0 + 50 });
        await enqueue(taken);
        const now = T0 + 100;
        await assert.rejects(store.revoke({ userId: w.u1.id }, now, 'universal_logout', () => ({
          audit: { orgId: w.a, at: now, kind: 'universal_logout', userId: w.u1.id, clientId: null, details: {} },
          setUserOffline: { orgId: w.a, userId: w.u1.id },
          outbox: [outboxRow(w.a, w.c2.id), { ...taken }],
        })));
        assert.equal((await store.findAccessTokenByHash(w.g1.at.hash))!.revokedAt, null);
        assert.equal((await store.findSignInSessionByHash(w.s1.tokenHash))!.endedAt, null);
        assert.equal((await store.listAudit(w.a, { kind: 'universal_logout' })).total, 0, 'no audit entry');
        assert.equal(await store.getUserStatus(w.a, w.u1.id), null, 'the user was not set offline');
        assert.deepEqual(await claimIds(now), [taken.id], 'only the earlier row is in the outbox');
      });
    });

    // ------------------------------------------------------------ idle expiry, user status, interactions

    describe('idle expiry, user status and interactions', () => {
      test('liveAccessTokensOfUser: the user\'s unrevoked, unexpired tokens in that org only, oldest first, limited', async () => {
        const now = T0 + HOUR;
        const first = accessToken('org-x', { userId: 'u1', issuedAt: T0 });
        const second = accessToken('org-x', { userId: 'u1', issuedAt: T0 + 1 });
        const others = [
          accessToken('org-x', { userId: 'u2' }), accessToken('org-y', { userId: 'u1' }),
          accessToken('org-x', { userId: 'u1', revokedAt: T0, revokeReason: 'logout' }), accessToken('org-x', { userId: 'u1', expiresAt: now - 1 }),
        ];
        for (const t of [second, ...others, first]) await store.saveAccessToken(t);
        assert.deepEqual((await store.liveAccessTokensOfUser('org-x', 'u1', now, 10)).map((t) => t.id), [first.id, second.id]);
        assert.deepEqual((await store.liveAccessTokensOfUser('org-x', 'u1', now, 1)).map((t) => t.id), [first.id]);
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
        assert.deepEqual((await store.listInteractions('u2')), [otherUser], 'one user\'s');

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

    // ------------------------------------------------------------ back-channel logout outbox

    describe('back-channel logout outbox', () => {
      test('claimBackchannelLogouts: pending rows due by now, oldest next attempt first, at most `limit`, as whole records', async () => {
        const { a } = await twoOrgs();
        const r1 = outboxRow(a, 'c1', { nextAttemptAt: T0 + 10, sessionId: 'session-1', userId: 'u1', reason: 'universal_logout' });
        const r2 = outboxRow(a, 'c1', { nextAttemptAt: T0 + 5 });
        const later = outboxRow(a, 'c2', { nextAttemptAt: T0 + 20 });
        const r4 = outboxRow(a, 'c2', { nextAttemptAt: T0 + 1, attempts: 3 });
        await enqueue(r1, r2, later, r4);
        assert.deepEqual(await store.claimBackchannelLogouts(T0 + 15, 2, T0 + MINUTE), [r4, r2], 'the limit keeps the oldest; not yet due: left out');
        assert.deepEqual(await claimIds(T0 + 15), [r1.id], 'claimed rows are not handed out again');
        assert.deepEqual(await claimIds(T0 + 30), [later.id], 'due now');
        assert.deepEqual(await claimIds(T0 + 30), [], 'everything is claimed');
      });

      test('a claim lapses at claimUntil: the row is handed out again, to any node', async () => {
        const { a } = await twoOrgs();
        const row = outboxRow(a, 'c1', { nextAttemptAt: T0 });
        await enqueue(row);
        const node2 = await anotherNode();
        assert.deepEqual((await store.claimBackchannelLogouts(T0, 10, T0 + MINUTE)).map((o) => o.id), [row.id]);
        assert.deepEqual((await node2.claimBackchannelLogouts(T0 + MINUTE - 1, 10, T0 + 2 * MINUTE)).map((o) => o.id), [],
          'another node does not get it before the claim lapses');
        assert.deepEqual((await node2.claimBackchannelLogouts(T0 + MINUTE, 10, T0 + 2 * MINUTE)).map((o) => o.id), [row.id],
          'a node that claimed and went silent does not hold it forever');
        assert.deepEqual(await claimIds(T0 + MINUTE + 1), [], 'the new claim holds');
      });

      test('concurrent claimers, on one node and on two, never get the same row, and together get every due row', async () => {
        const { a } = await twoOrgs();
        const rows = Array.from({ length: 24 }, (_, i) => outboxRow(a, `c${i % 3}`, { nextAttemptAt: T0 + i }));
        await enqueue(...rows);
        const node2 = await anotherNode();
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimIds(T0 + HOUR, 4, undefined, i % 2 ? node2 : store)));
        const all = claims.flat();
        assert.equal(new Set(all).size, all.length, `a row was handed out twice: ${JSON.stringify(claims)}`);
        assert.deepEqual(sorted(all), sorted(rows.map((r) => r.id)), '8 claims of 4 took all 24 rows');
      });

      test('except.uris leaves out rows of busy receivers, so the others come through', async () => {
        const { a } = await twoOrgs();
        const busy = 'https://busy.example.test/bcl';
        const a1 = outboxRow(a, 'c1', { uri: busy, nextAttemptAt: T0 + 1 });
        const a2 = outboxRow(a, 'c1', { uri: busy, nextAttemptAt: T0 + 2 });
        const b1 = outboxRow(a, 'c2', { uri: 'https://b.example.test/bcl', nextAttemptAt: T0 + 3 });
        const c1 = outboxRow(a, 'c3', { uri: 'https://c.example.test/bcl', nextAttemptAt: T0 + 4 });
        await enqueue(a1, a2, b1, c1);
        assert.deepEqual(await claimIds(T0 + 10, 1, { uris: [busy, c1.uri] }), [b1.id], 'a busy receiver\'s rows do not crowd out the others');
        assert.deepEqual(await claimIds(T0 + 10, 10, { uris: [busy] }), [c1.id]);
        assert.deepEqual(await claimIds(T0 + 10, 10, { uris: [] }), [a1.id, a2.id], 'an empty list leaves out nothing');
      });

      test('recordBackchannelAttempt: a retry is due again at its next attempt, claim or not; delivered and failed are done; each attempt is audited', async () => {
        const { a } = await twoOrgs();
        const row = outboxRow(a, 'c1', { userId: 'u1', nextAttemptAt: T0 });
        const gaveUp = outboxRow(a, 'c2', { userId: 'u2', nextAttemptAt: T0 });
        await enqueue(row, gaveUp);
        assert.deepEqual(sorted((await store.claimBackchannelLogouts(T0, 10, T0 + HOUR)).map((o) => o.id)), sorted([row.id, gaveUp.id]));

        await store.recordBackchannelAttempt(row.id, T0 + 100, retry(T0 + 10 * MINUTE));
        await store.recordBackchannelAttempt(gaveUp.id, T0 + 100, { outcome: 'failed', result: 'timeout', statusCode: null, error: 'timeout', nextAttemptAt: null });
        assert.deepEqual(await claimIds(T0 + 5 * MINUTE), [], 'the retry is not due before its next attempt; the failed row is done');
        assert.deepEqual(await store.claimBackchannelLogouts(T0 + 10 * MINUTE, 10, T0 + 11 * MINUTE), [{ ...row, attempts: 1, nextAttemptAt: T0 + 10 * MINUTE }],
          'recording the attempt ended the hour-long claim');

        await store.recordBackchannelAttempt(row.id, T0 + 11 * MINUTE, delivered);
        assert.deepEqual(await claimIds(T0 + 24 * HOUR), [], 'delivered: never sent again');

        const audit = (await store.listAudit(a, { kind: 'backchannel_logout' })).entries;
        assert.deepEqual(audit.map(({ id: _id, ...e }) => e), [
          { orgId: a, at: T0 + 11 * MINUTE, kind: 'backchannel_logout', userId: 'u1', clientId: 'c1',
            details: { jti: row.id, attempt: 2, outcome: 'delivered', result: 'delivered', statusCode: 200, error: null, nextAttemptAt: null } },
          { orgId: a, at: T0 + 100, kind: 'backchannel_logout', userId: 'u2', clientId: 'c2',
            details: { jti: gaveUp.id, attempt: 1, outcome: 'failed', result: 'timeout', statusCode: null, error: 'timeout', nextAttemptAt: null } },
          { orgId: a, at: T0 + 100, kind: 'backchannel_logout', userId: 'u1', clientId: 'c1',
            details: { jti: row.id, attempt: 1, outcome: 'retry', result: 'http_status', statusCode: 503, error: null,
              nextAttemptAt: new Date(T0 + 10 * MINUTE).toISOString() } },
        ]);

        await store.recordBackchannelAttempt('no-such-row', T0 + 12 * MINUTE, delivered);
        assert.equal((await store.listAudit(a, { kind: 'backchannel_logout' })).total, 3, 'an unknown row records nothing');
      });

      test('backchannelOutboxStats: pending rows, claimed ones included, and the oldest one\'s creation; delivered, failed and cancelled rows are done', async () => {
        assert.deepEqual(await store.backchannelOutboxStats(), { pending: 0, oldestCreatedAt: null }, 'an empty outbox');
        const { a } = await twoOrgs();
        const gone = client(a, { backchannelLogoutUri: 'https://gone.example.test/bcl' });
        await store.createClient(gone);
        const oldest = outboxRow(a, 'c1', { createdAt: T0 + 1 });
        const failing = outboxRow(a, 'c2', { createdAt: T0 + 2 });
        const later = outboxRow(a, 'c3', { createdAt: T0 + 5, nextAttemptAt: T0 + HOUR });
        const cancelled = outboxRow(a, gone.id, { uri: gone.backchannelLogoutUri!, createdAt: T0 });
        const retried = outboxRow(a, 'c4', { createdAt: T0 + 3 });
        await enqueue(oldest, failing, later, cancelled, retried);
        assert.deepEqual(await store.backchannelOutboxStats(), { pending: 5, oldestCreatedAt: T0 });

        await store.deleteClient(a, gone.id);
        assert.deepEqual(sorted(await claimIds(T0)), sorted([oldest.id, failing.id, retried.id]));
        assert.deepEqual(await store.backchannelOutboxStats(), { pending: 4, oldestCreatedAt: T0 + 1 }, 'claimed rows are still pending; a cancelled one is not');
        await store.recordBackchannelAttempt(oldest.id, T0 + 100, delivered);
        await store.recordBackchannelAttempt(failing.id, T0 + 100, { outcome: 'failed', result: 'http_status', statusCode: 400, error: null, nextAttemptAt: null });
        await store.recordBackchannelAttempt(retried.id, T0 + 100, retry(T0 + MINUTE));
        assert.deepEqual(await store.backchannelOutboxStats(), { pending: 2, oldestCreatedAt: T0 + 3 }, 'a retry stays pending; delivered and failed rows are done');
      });

      test('deleteClient cancels that client\'s pending logouts only; cancelled rows are never claimed, and an attempt in flight leaves them cancelled', async () => {
        const { a, b } = await twoOrgs();
        const gone = client(a, { backchannelLogoutUri: 'https://gone.example.test/bcl' });
        const kept = client(a, { backchannelLogoutUri: 'https://kept.example.test/bcl' });
        await store.createClient(gone);
        await store.createClient(kept);
        const ofGone = outboxRow(a, gone.id, { uri: gone.backchannelLogoutUri!, userId: 'u1' });
        const ofKept = outboxRow(a, kept.id, { uri: kept.backchannelLogoutUri! });
        await enqueue(ofGone, ofKept);

        assert.equal(await store.deleteClient(b, gone.id), false);
        assert.deepEqual(sorted(await claimIds(T0)), sorted([ofGone.id, ofKept.id]), 'another org\'s delete cancels nothing');
        assert.equal(await store.deleteClient(a, gone.id), true, 'deleted while its row is claimed (in flight)');
        assert.deepEqual(await claimIds(T0 + 10 * MINUTE), [ofKept.id], 'the claim lapsed: only the kept client\'s row comes back');

        await store.recordBackchannelAttempt(ofGone.id, T0 + 11 * MINUTE, retry(T0 + 12 * MINUTE));
        assert.deepEqual(await claimIds(T0 + 24 * HOUR), [ofKept.id], 'the late attempt does not bring it back');
        const [entry] = (await store.listAudit(a, { kind: 'backchannel_logout' })).entries;
        assert.deepEqual(entry!.details, {
          jti: ofGone.id, attempt: 1, outcome: 'failed', result: 'http_status', statusCode: 503, error: null, nextAttemptAt: null,
        }, 'recorded as a final failure, without a next attempt');
      });
    });

    // ------------------------------------------------------------ used codes, live tokens of a session, purging

    describe('retention', () => {
      test('findUsedAuthCode answers only a code already used', async () => {
        const c = authCode('org-x', 'user-x', 'session-x');
        await store.saveAuthCode(c);
        assert.equal(await store.findUsedAuthCode(c.hash), null, 'not used yet');
        await store.consumeAuthCode(c.hash, T0 + 1);
        assert.deepEqual(await store.findUsedAuthCode(c.hash), c);
        assert.equal(await store.findUsedAuthCode('no-such-code'), null);
      });

      test('countLiveAccessTokensOfSession counts the session\'s unrevoked, unexpired tokens', async () => {
        const now = T0 + HOUR;
        const ofSession = (over: Partial<AccessToken>) => accessToken('org-x', { userId: 'u1', sessionId: 'session-1', ...over });
        for (const t of [ofSession({}), ofSession({ clientId: 'other-client' }), ofSession({ expiresAt: now }),
          ofSession({ revokedAt: T0, revokeReason: 'logout' }), accessToken('org-x', { userId: 'u1', sessionId: 'session-2' })]) {
          await store.saveAccessToken(t);
        }
        assert.equal(await store.countLiveAccessTokensOfSession('session-1', now), 2);
        assert.equal(await store.countLiveAccessTokensOfSession('no-such-session', now), 0);
      });

      test('purgeExpired deletes what ended before the cut-off and counts it; what is live or ended later stays, and so does the audit log', async () => {
        const { a } = await twoOrgs();
        const u = user(a);
        await store.createUser(u);
        const cut = T0 + 10 * HOUR;
        const before = cut - 1;

        const access = {
          expired: accessToken(a, { expiresAt: before }), revoked: accessToken(a, { revokedAt: before, revokeReason: 'logout' }),
          live: accessToken(a, { expiresAt: cut + HOUR }), revokedLater: accessToken(a, { revokedAt: cut, revokeReason: 'logout', expiresAt: cut + HOUR }),
        };
        const refresh = {
          expired: refreshToken(a, u.id, { expiresAt: before }), revoked: refreshToken(a, u.id, { revokedAt: before }),
          live: refreshToken(a, u.id, { expiresAt: cut + HOUR }),
        };
        const codes = { expired: authCode(a, u.id, 's', { expiresAt: before }), live: authCode(a, u.id, 's', { expiresAt: cut + 1 }) };
        const sessions = {
          expired: session(a, u.id, { expiresAt: before }), ended: session(a, u.id, { endedAt: before, expiresAt: cut + HOUR }),
          live: session(a, u.id, { expiresAt: cut + HOUR }),
        };
        for (const t of Object.values(access)) await store.saveAccessToken(t);
        for (const t of Object.values(refresh)) await store.saveRefreshToken(t);
        for (const c of Object.values(codes)) await store.saveAuthCode(c);
        for (const s of Object.values(sessions)) await store.createSignInSession(s);

        const outbox = {
          deliveredLongAgo: outboxRow(a, 'c1', { createdAt: before }), failedLongAgo: outboxRow(a, 'c1', { createdAt: before }),
          pendingLongAgo: outboxRow(a, 'c1', { createdAt: before, nextAttemptAt: cut + HOUR }), deliveredLater: outboxRow(a, 'c1', { createdAt: cut }),
        };
        await enqueue(...Object.values(outbox));
        await store.recordBackchannelAttempt(outbox.deliveredLongAgo.id, before, delivered);
        await store.recordBackchannelAttempt(outbox.failedLongAgo.id, before, { outcome: 'failed', result: 'http_status', statusCode: 400, error: null, nextAttemptAt: null });
        await store.recordBackchannelAttempt(outbox.deliveredLater.id, cut, delivered);
        const audited = (await store.listAudit(a, {})).total;

        assert.deepEqual(await store.purgeExpired(cut), { accessTokens: 2, refreshTokens: 2, authCodes: 1, signInSessions: 2, backchannelDeliveries: 2, clusterLog: 0, channels: 0 });
        assert.equal(await store.findAccessTokenByHash(access.expired.hash), null);
        assert.equal(await store.findAccessTokenByHash(access.revoked.hash), null);
        assert.deepEqual(await store.findAccessTokenByHash(access.live.hash), access.live);
        assert.deepEqual(await store.findAccessTokenByHash(access.revokedLater.hash), access.revokedLater);
        assert.equal(await store.findRefreshTokenByHash(refresh.expired.hash), null);
        assert.equal(await store.findRefreshTokenByHash(refresh.revoked.hash), null);
        assert.deepEqual(await store.findRefreshTokenByHash(refresh.live.hash), refresh.live);
        assert.equal(await store.consumeAuthCode(codes.expired.hash, T0), null, 'the expired code is gone');
        assert.deepEqual(await store.consumeAuthCode(codes.live.hash, T0), codes.live);
        assert.equal(await store.getSignInSession(sessions.expired.id), null);
        assert.equal(await store.getSignInSession(sessions.ended.id), null);
        assert.deepEqual(await store.getSignInSession(sessions.live.id), sessions.live);
        assert.deepEqual(await claimIds(cut + HOUR), [outbox.pendingLongAgo.id], 'a pending delivery stays, however old');
        assert.equal((await store.listAudit(a, {})).total, audited, 'the audit log stays');

        assert.deepEqual(await store.purgeExpired(cut), { accessTokens: 0, refreshTokens: 0, authCodes: 0, signInSessions: 0, backchannelDeliveries: 0, clusterLog: 0, channels: 0 });
      });
    });
  });
}
