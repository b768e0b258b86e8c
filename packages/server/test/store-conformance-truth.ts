/**
 * Conformance, part two: the store as the truth of a cluster — persisted idle deadlines and the guarded idle
 * expiry (with what it decides in the same transaction), the cluster log, node leases and shared channels.
 * Run by `runStoreConformance` for every Store implementation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AccessToken, ChannelRecord, IdleExpiry, SignInSession } from '../src/core/records.ts';
import type { Store } from '../src/store/store.ts';

const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;

function token(orgId: string, over: Partial<AccessToken> = {}): AccessToken {
  const id = `at-${randomUUID()}`;
  return {
    id, hash: `hash-${id}`, orgId, userId: null, clientId: 'some-client', sessionId: null, grantId: `grant-${id}`, scope: 'openid',
    issuedAt: T0, expiresAt: T0 + 24 * HOUR, lastActivityAt: T0, idleDeadlineAt: T0 + 15 * MIN, revokedAt: null, revokeReason: null, ...over,
  };
}

function signInSession(orgId: string, userId: string): SignInSession {
  const id = `session-${randomUUID()}`;
  return { id, tokenHash: `hash-${id}`, orgId, userId, authTime: T0, createdAt: T0, expiresAt: T0 + 12 * HOUR, endedAt: null };
}

const expiry = (t: AccessToken, deadline = t.idleDeadlineAt ?? T0): IdleExpiry => ({ token: t, deadline });
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
const sorted = (xs: string[]) => [...xs].sort();

export interface TruthContext {
  store: () => Store;
  /** A second Store on the same database, as another node would hold (closed by the suite). */
  anotherNode: () => Promise<Store>;
  newOrg: () => Promise<string>;
}

export function storeTruthConformance({ store, anotherNode, newOrg }: TruthContext) {
  describe('idle deadlines', () => {
    test('the deadline is saved with the token and moved by activity; older activity and ended tokens are left alone', async () => {
      const orgId = await newOrg();
      const busy = token(orgId);
      const ended = token(orgId);
      const none = token(orgId, { idleDeadlineAt: null });
      for (const t of [busy, ended, none]) await store().saveAccessToken(t);
      assert.equal((await store().findAccessTokenByHash(busy.hash))?.idleDeadlineAt, T0 + 15 * MIN);
      assert.equal((await store().findAccessTokenByHash(none.hash))?.idleDeadlineAt, null);
      await store().revoke({ accessTokenId: ended.id }, T0 + MIN, 'revocation');

      await store().recordActivity([
        { id: busy.id, lastActivityAt: T0 + 5 * MIN, idleDeadlineAt: T0 + 20 * MIN },
        { id: ended.id, lastActivityAt: T0 + 5 * MIN, idleDeadlineAt: T0 + 20 * MIN },
      ]);
      await store().recordActivity([{ id: busy.id, lastActivityAt: T0 + 2 * MIN, idleDeadlineAt: T0 + 17 * MIN }]);
      const moved = await store().findAccessTokenByHash(busy.hash);
      assert.deepEqual([moved?.lastActivityAt, moved?.idleDeadlineAt], [T0 + 5 * MIN, T0 + 20 * MIN], 'a later flush of older activity does not move it back');
      const untouched = await store().findAccessTokenByHash(ended.hash);
      assert.deepEqual([untouched?.lastActivityAt, untouched?.idleDeadlineAt], [T0, T0 + 15 * MIN], 'an ended token is not touched');

      await store().recordActivity([{ id: busy.id, lastActivityAt: T0 + 5 * MIN, idleDeadlineAt: null }]);
      assert.equal((await store().findAccessTokenByHash(busy.hash))?.idleDeadlineAt, null, 'an exemption lifts the deadline');
    });

    test('dueIdleTokens: unrevoked, unexpired tokens at or past their stored deadline, earliest first, at most `limit`', async () => {
      const orgId = await newOrg();
      const now = T0 + HOUR;
      const first = token(orgId, { idleDeadlineAt: now - 10 * MIN });
      const second = token(orgId, { idleDeadlineAt: now - 5 * MIN });
      const atNow = token(orgId, { idleDeadlineAt: now });
      const notYet = token(orgId, { idleDeadlineAt: now + 1 });
      const exempt = token(orgId, { idleDeadlineAt: null });
      const revoked = token(orgId, { idleDeadlineAt: now - 20 * MIN, revokedAt: T0, revokeReason: 'logout' });
      const expired = token(orgId, { idleDeadlineAt: now - 20 * MIN, expiresAt: now });
      for (const t of [atNow, notYet, second, exempt, revoked, expired, first]) await store().saveAccessToken(t);
      assert.deepEqual(ids(await store().dueIdleTokens(now, 10)), [first.id, second.id, atNow.id]);
      assert.deepEqual(ids(await store().dueIdleTokens(now, 2)), [first.id, second.id], 'the limit keeps the earliest');
      assert.deepEqual((await store().dueIdleTokens(now, 1))[0], first, 'whole records');
      assert.deepEqual(await store().dueIdleTokens(now - 21 * MIN, 10), [], 'nothing due yet');
    });

    test('expireIdleTokens ends only tokens whose stored deadline has passed: moved or lifted deadlines keep theirs', async () => {
      const orgId = await newOrg();
      const due = token(orgId);
      const movedLater = token(orgId);
      const lifted = token(orgId, { idleDeadlineAt: null });
      for (const t of [due, movedLater, lifted]) await store().saveAccessToken(t);
      await store().recordActivity([{ id: movedLater.id, lastActivityAt: T0 + 10 * MIN, idleDeadlineAt: T0 + 25 * MIN }]);

      const expired = await store().expireIdleTokens([due, movedLater, lifted].map((t) => expiry(t, T0 + 15 * MIN)), T0 + 15 * MIN);
      assert.deepEqual(expired, [{ id: due.id, sessionEnded: false, userOffline: false }], 'a machine token has no session and no user');
      assert.equal((await store().findAccessTokenByHash(movedLater.hash))?.revokedAt, null);
      assert.equal((await store().findAccessTokenByHash(lifted.hash))?.revokedAt, null);
      assert.equal((await store().findAccessTokenByHash(due.hash))?.revokeReason, 'idle_timeout');
    });

    test('expireIdleTokens revokes the grant\'s refresh tokens, audits each token once, skips tokens ended already and a token listed twice', async () => {
      const orgId = await newOrg();
      const userId = `user-${randomUUID()}`;
      const t1 = token(orgId, { userId, clientId: 'c1' });
      const gone = token(orgId, { userId, revokedAt: T0 + 1, revokeReason: 'logout' });
      const bystander = token(orgId, { userId: `user-${randomUUID()}`, idleDeadlineAt: null });
      for (const t of [t1, gone, bystander]) await store().saveAccessToken(t);
      const refresh = {
        id: `rt-${randomUUID()}`, hash: `rt-hash-${randomUUID()}`, grantId: t1.grantId, orgId, userId, clientId: 'c1', sessionId: 's',
        scope: 'openid', issuedAt: T0, expiresAt: T0 + 30 * 24 * HOUR, rotatedAt: null, revokedAt: null,
      };
      await store().saveRefreshToken(refresh);

      const now = T0 + 16 * MIN;
      const expired = await store().expireIdleTokens([expiry(t1), expiry(gone), expiry(t1)], now);
      assert.deepEqual(ids(expired), [t1.id]);
      assert.equal((await store().findAccessTokenByHash(gone.hash))!.revokeReason, 'logout', 'the earlier reason is kept');
      assert.equal((await store().findRefreshTokenByHash(refresh.hash))!.revokedAt, now, 'the grant\'s refresh token is revoked');
      assert.equal((await store().findAccessTokenByHash(bystander.hash))!.revokedAt, null, 'tokens not in the batch stay live');

      const audits = (await store().listAudit(orgId, { kind: 'idle_timeout' })).entries;
      assert.deepEqual(audits.map(({ id: _id, ...e }) => e), [{
        orgId, at: now, kind: 'idle_timeout', userId, clientId: 'c1',
        details: {
          accessTokenId: t1.id, deadline: new Date(T0 + 15 * MIN).toISOString(), noticedAt: new Date(now).toISOString(), latenessMs: MIN,
          signInSessionEnded: false, userSetOffline: true,
        },
      }]);
      assert.deepEqual(await store().expireIdleTokens([expiry(t1)], now + 5), [], 'expiring again does nothing');
      assert.equal((await store().listAudit(orgId, { kind: 'idle_timeout' })).total, 1);
    });

    test('expireIdleTokens decides in its transaction: a session left without a live token ends, a user left without one goes Offline / OFF_QUEUE', async () => {
      const orgId = await newOrg();
      const now = T0 + HOUR;
      const due = { idleDeadlineAt: now - MIN };
      /** A user signed in through one session: `of` is what their tokens through it carry. */
      const person = async () => {
        const userId = `user-${randomUUID()}`;
        const session = signInSession(orgId, userId);
        await store().createSignInSession(session);
        return { userId, session, of: { userId, sessionId: session.id } };
      };
      const [keepsBoth, keepsUser, pastDeadline, timedOut, twoInBatch] = await Promise.all([person(), person(), person(), person(), person()]);
      const otherSession = signInSession(orgId, keepsUser.userId);
      await store().createSignInSession(otherSession);
      await store().saveUserStatus({ userId: pastDeadline.userId, orgId, presence: 'Available', presenceAt: T0, routingStatus: 'IDLE', routingAt: T0 });

      const tokens = {
        // Another client's token through the same session, still in use: the session and the user go on.
        keepsBoth: token(orgId, { ...keepsBoth.of, ...due }), keepsBothOther: token(orgId, { ...keepsBoth.of, clientId: 'c2', idleDeadlineAt: now + MIN }),
        // An exempt token (no deadline) through another session: the user stays, the session ends.
        keepsUser: token(orgId, { ...keepsUser.of, ...due }), keepsUserOther: token(orgId, { ...keepsUser.of, sessionId: otherSession.id, idleDeadlineAt: null }),
        // The only other token is past its own deadline, not yet expired by anyone: not live.
        pastDeadline: token(orgId, { ...pastDeadline.of, ...due }), pastDeadlineOther: token(orgId, { ...pastDeadline.of, idleDeadlineAt: now }),
        // The only other token expired by its lifetime: not live.
        timedOut: token(orgId, { ...timedOut.of, ...due }), timedOutOther: token(orgId, { ...timedOut.of, expiresAt: now, idleDeadlineAt: null }),
        // Both of the session's tokens in this batch: the first ends the session, both leave the user without a token.
        first: token(orgId, { ...twoInBatch.of, ...due }), second: token(orgId, { ...twoInBatch.of, clientId: 'c2', ...due }),
      };
      for (const t of Object.values(tokens)) await store().saveAccessToken(t);

      const batch = [tokens.keepsBoth, tokens.keepsUser, tokens.pastDeadline, tokens.timedOut, tokens.first, tokens.second];
      const expired = await store().expireIdleTokens(batch.map((t) => expiry(t)), now);
      assert.deepEqual(expired, [
        { id: tokens.keepsBoth.id, sessionEnded: false, userOffline: false },
        { id: tokens.keepsUser.id, sessionEnded: true, userOffline: false },
        { id: tokens.pastDeadline.id, sessionEnded: true, userOffline: true },
        { id: tokens.timedOut.id, sessionEnded: true, userOffline: true },
        { id: tokens.first.id, sessionEnded: true, userOffline: true },
        { id: tokens.second.id, sessionEnded: false, userOffline: true },
      ], 'in the batch\'s order');

      const endedAt = async (s: SignInSession) => (await store().getSignInSession(s.id))!.endedAt;
      assert.equal(await endedAt(keepsBoth.session), null);
      assert.equal(await endedAt(otherSession), null, 'the exempt token\'s session goes on');
      for (const p of [keepsUser, pastDeadline, timedOut, twoInBatch]) assert.equal(await endedAt(p.session), now);

      const offline = { orgId, presence: 'Offline', presenceAt: now, routingStatus: 'OFF_QUEUE', routingAt: now };
      for (const p of [pastDeadline, timedOut, twoInBatch]) assert.deepEqual(await store().getUserStatus(orgId, p.userId), { userId: p.userId, ...offline });
      assert.equal(await store().getUserStatus(orgId, keepsBoth.userId), null, 'status untouched');
      assert.equal(await store().getUserStatus(orgId, keepsUser.userId), null);

      const audits = (await store().listAudit(orgId, { kind: 'idle_timeout' })).entries;
      const details = new Map(audits.map((e) => [e.details.accessTokenId as string, e.details]));
      for (const e of expired) {
        const d = details.get(e.id)!;
        assert.deepEqual([d.signInSessionEnded, d.userSetOffline], [e.sessionEnded, e.userOffline], `audit of ${e.id} says what was decided`);
      }
      assert.equal(audits.length, batch.length);
    });

    test('concurrent sweeps of two nodes expire each token once, with one audit entry and one cluster-log entry', async () => {
      const orgId = await newOrg();
      const node2 = await anotherNode();
      const userId = `user-${randomUUID()}`;
      const session = signInSession(orgId, userId);
      await store().createSignInSession(session);
      const batch = Array.from({ length: 12 }, (_, i) => token(orgId, { userId: i % 2 ? userId : null, sessionId: i % 2 ? session.id : null }));
      for (const t of batch) await store().saveAccessToken(t);
      const start = await store().lastLogSeq();
      const now = T0 + 16 * MIN;
      const sweeps = await Promise.all([store(), node2, store(), node2].map((s, i) =>
        s.expireIdleTokens((i % 2 ? [...batch].reverse() : batch).map((t) => expiry(t)), now)));
      const all = sweeps.flat();
      assert.deepEqual(sorted(ids(all)), sorted(ids(batch)), 'every token expired, none twice');
      assert.equal(all.filter((e) => e.sessionEnded).length, 1, 'the session ended once');
      assert.ok(all.some((e) => e.userOffline), 'the user went offline');
      assert.equal((await store().listAudit(orgId, { kind: 'idle_timeout' })).total, batch.length, 'one audit entry per token');
      const log = await node2.logAfter(start, 100);
      assert.deepEqual(sorted(log.map((e) => (e.kind === 'token_ended' ? e.tokenHash : e.kind))), sorted(batch.map((t) => t.hash)));
    });
  });

  describe('cluster log', () => {
    test('a fresh store has no entries', async () => {
      assert.equal(await store().lastLogSeq(), 0);
      assert.deepEqual(await store().logAfter(0, 10), []);
    });

    test('every ended access token is logged once, in commit order, with its reason; revoke returns the seq of its last entry', async () => {
      const orgId = await newOrg();
      const start = await store().lastLogSeq();
      const userId = `user-${randomUUID()}`;
      const a = token(orgId, { userId });
      const b = token(orgId, { userId });
      const idle = token(orgId);
      for (const t of [a, b, idle]) await store().saveAccessToken(t);

      const first = await store().revoke({ userId }, T0 + MIN, 'universal_logout');
      const nothing = await store().revoke({ userId }, T0 + 2 * MIN, 'admin_logoff');
      await store().expireIdleTokens([expiry(idle)], T0 + 16 * MIN);

      const log = await store().logAfter(start, 100);
      assert.deepEqual(log.map((e) => (e.kind === 'token_ended' ? [e.kind, e.reason, e.at] : e.kind)),
        [['token_ended', 'universal_logout', T0 + MIN], ['token_ended', 'universal_logout', T0 + MIN], ['token_ended', 'idle_timeout', T0 + 16 * MIN]]);
      const hashes = log.map((e) => (e.kind === 'token_ended' ? e.tokenHash : ''));
      assert.deepEqual(new Set(hashes.slice(0, 2)), new Set([a.hash, b.hash]));
      assert.equal(hashes[2], idle.hash);
      assert.ok(log.every((e, i) => i === 0 || e.seq > log[i - 1]!.seq), 'sequence numbers increase');
      assert.equal(first.logSeq, log[1]!.seq, 'RevokedSet.logSeq: the seq of the last entry it appended');
      assert.equal(nothing.logSeq, 0, 'a revocation that ended no access token appended nothing');
      assert.equal(await store().lastLogSeq(), log[2]!.seq);
      assert.deepEqual((await store().logAfter(log[0]!.seq, 1)).map((e) => e.seq), [log[1]!.seq], 'paged by seq and limit');
      assert.deepEqual(await store().logAfter(log[2]!.seq, 10), []);
    });

    test('appendChange: org and user changes, numbered in the same sequence as ended tokens', async () => {
      const orgId = await newOrg();
      const userId = `user-${randomUUID()}`;
      const t = token(orgId);
      await store().saveAccessToken(t);
      const s1 = await store().appendChange({ kind: 'org_changed', orgId }, T0 + 1);
      const { logSeq: s2 } = await store().revoke({ accessTokenId: t.id }, T0 + 2, 'revocation');
      const s3 = await store().appendChange({ kind: 'user_changed', orgId, userId }, T0 + 3);
      assert.ok(s1 < s2 && s2 < s3, `${s1} < ${s2} < ${s3}`);
      assert.equal(await store().lastLogSeq(), s3);
      assert.deepEqual(await store().logAfter(s1 - 1, 10), [
        { seq: s1, at: T0 + 1, kind: 'org_changed', orgId },
        { seq: s2, at: T0 + 2, kind: 'token_ended', tokenHash: t.hash, reason: 'revocation' },
        { seq: s3, at: T0 + 3, kind: 'user_changed', orgId, userId },
      ]);
    });

    test('appends of two nodes at once: distinct seqs, all listed, in seq order', async () => {
      const orgId = await newOrg();
      const node2 = await anotherNode();
      const start = await store().lastLogSeq();
      const tokens = Array.from({ length: 10 }, () => token(orgId));
      for (const t of tokens) await store().saveAccessToken(t);
      const seqs = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => (i % 2 ? node2 : store()).appendChange({ kind: 'org_changed', orgId }, T0 + i)),
        ...tokens.map(async (t, i) => (await (i % 2 ? store() : node2).revoke({ accessTokenId: t.id }, T0 + i, 'revocation')).logSeq),
      ]);
      assert.equal(new Set(seqs).size, seqs.length, 'no seq handed out twice');
      const log = await store().logAfter(start, 100);
      assert.deepEqual(log.map((e) => e.seq), [...seqs].sort((x, y) => x - y));
    });

    test('purgeExpired drops log entries older than its horizon and keeps the newer ones; numbering goes on', async () => {
      const orgId = await newOrg();
      const old = token(orgId);
      const recent = token(orgId);
      for (const t of [old, recent]) await store().saveAccessToken(t);
      await store().revoke({ accessTokenId: old.id }, T0 + MIN, 'revocation');
      await store().appendChange({ kind: 'org_changed', orgId }, T0 + 2 * MIN);
      const { logSeq } = await store().revoke({ accessTokenId: recent.id }, T0 + 10 * MIN, 'revocation');
      const counts = await store().purgeExpired(T0 + 5 * MIN);
      assert.equal(counts.clusterLog, 2);
      // A reader may hold back at a gap in the numbering (PostgreSQL: it may be an append still open) for a moment.
      let read: number[] = [];
      for (const deadline = Date.now() + 10_000; !read.length && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        read = (await store().logAfter(0, 100)).map((e) => e.seq);
      }
      assert.deepEqual(read, [logSeq]);
      assert.ok((await store().appendChange({ kind: 'org_changed', orgId }, T0 + 11 * MIN)) > logSeq);
      await store().purgeExpired(T0 + HOUR);
      assert.ok((await store().appendChange({ kind: 'org_changed', orgId }, T0 + 2 * HOUR)) > logSeq + 1, 'an emptied log does not start again at 1');
    });
  });

  describe('node leases', () => {
    test('renewNodeLease upserts; appliedSeq never moves back; listNodeLeases lists lapsed ones too; releaseNodeLease removes', async () => {
      const [a, b] = [`node-a-${randomUUID()}`, `node-b-${randomUUID()}`];
      assert.deepEqual(await store().listNodeLeases(), []);
      await store().renewNodeLease({ nodeId: a, leaseUntil: T0 + MIN, appliedSeq: 5 });
      await store().renewNodeLease({ nodeId: b, leaseUntil: T0 - MIN, appliedSeq: 0 });
      const byId = async () => new Map((await store().listNodeLeases()).map((n) => [n.nodeId, n]));
      assert.deepEqual(await byId(), new Map([[a, { nodeId: a, leaseUntil: T0 + MIN, appliedSeq: 5 }], [b, { nodeId: b, leaseUntil: T0 - MIN, appliedSeq: 0 }]]));

      await store().renewNodeLease({ nodeId: a, leaseUntil: T0 + 2 * MIN, appliedSeq: 3 });
      assert.deepEqual((await byId()).get(a), { nodeId: a, leaseUntil: T0 + 2 * MIN, appliedSeq: 5 }, 'the lease moves, an older appliedSeq does not');
      await store().renewNodeLease({ nodeId: a, leaseUntil: T0 + 3 * MIN, appliedSeq: 9 });
      assert.deepEqual((await byId()).get(a), { nodeId: a, leaseUntil: T0 + 3 * MIN, appliedSeq: 9 });

      await store().releaseNodeLease(a);
      await store().releaseNodeLease('no-such-node');
      assert.deepEqual([...(await byId()).keys()], [b]);
    });

    test('renewals racing on two nodes keep the highest appliedSeq', async () => {
      const node2 = await anotherNode();
      const nodeId = `node-${randomUUID()}`;
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? node2 : store()).renewNodeLease({ nodeId, leaseUntil: T0 + i, appliedSeq: (i * 7) % 10 })));
      assert.equal((await store().listNodeLeases()).find((n) => n.nodeId === nodeId)!.appliedSeq, 9);
    });

    test('purgeExpired deletes node rows lapsed before the cut-off', async () => {
      await store().renewNodeLease({ nodeId: 'gone', leaseUntil: T0 - 1, appliedSeq: 1 });
      await store().renewNodeLease({ nodeId: 'at-cut', leaseUntil: T0, appliedSeq: 1 });
      await store().purgeExpired(T0);
      assert.deepEqual((await store().listNodeLeases()).map((n) => n.nodeId), ['at-cut']);
    });
  });

  describe('channels', () => {
    const channel = (orgId: string, over: Partial<ChannelRecord> = {}): ChannelRecord => ({
      id: `channel-${randomUUID()}`, orgId, userId: `user-${randomUUID()}`, tokenId: `at-${randomUUID()}`, tokenHash: `hash-${randomUUID()}`,
      topics: ['v2.users.u1.presence', 'v2.users.u1.conversations'], createdAt: T0, expiresAt: T0 + HOUR, ...over,
    });

    test('saveChannel / getChannel round-trip; save again replaces; unknown ids are null', async () => {
      const orgId = await newOrg();
      const c = channel(orgId);
      const machine = channel(orgId, { userId: null, topics: [] });
      await store().saveChannel(c);
      await store().saveChannel(machine);
      assert.deepEqual(await store().getChannel(c.id), c);
      assert.deepEqual(await store().getChannel(machine.id), machine);
      assert.equal(await store().getChannel('no-such-channel'), null);
      const replaced = { ...c, topics: ['v2.users.u1.routingStatus'], expiresAt: T0 + 2 * HOUR };
      await store().saveChannel(replaced);
      assert.deepEqual(await store().getChannel(c.id), replaced);
    });

    test('setChannelTopics replaces the topics (false for no such channel); deleteChannel is true once', async () => {
      const orgId = await newOrg();
      const c = channel(orgId);
      await store().saveChannel(c);
      assert.equal(await store().setChannelTopics(c.id, ['a', 'b', 'c']), true);
      assert.deepEqual(await store().getChannel(c.id), { ...c, topics: ['a', 'b', 'c'] });
      assert.equal(await store().setChannelTopics(c.id, []), true);
      assert.deepEqual((await store().getChannel(c.id))!.topics, []);
      assert.equal(await store().setChannelTopics('no-such-channel', ['a']), false);
      assert.equal(await store().deleteChannel(c.id), true);
      assert.equal(await store().deleteChannel(c.id), false);
      assert.equal(await store().getChannel(c.id), null);
      assert.equal(await store().setChannelTopics(c.id, ['a']), false, 'a deleted channel is not brought back');
    });

    test('purgeExpired deletes channels expired before the cut-off and counts them', async () => {
      const orgId = await newOrg();
      const old = channel(orgId, { expiresAt: T0 - 1 });
      const current = channel(orgId, { createdAt: T0 - HOUR, expiresAt: T0 });
      await store().saveChannel(old);
      await store().saveChannel(current);
      assert.equal((await store().purgeExpired(T0)).channels, 1);
      assert.equal(await store().getChannel(old.id), null);
      assert.deepEqual(await store().getChannel(current.id), current, 'created long ago but not expired: kept');
    });
  });
}
