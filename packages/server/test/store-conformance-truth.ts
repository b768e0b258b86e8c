/**
 * Conformance, part two: the store as the truth of a token's life — persisted idle deadlines, the guarded
 * idle expiry, and the revocation log. Run by `runStoreConformance` for every Store implementation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AccessToken, IdleExpiry } from '../src/core/records.ts';
import type { Store } from '../src/store/store.ts';

const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;

function token(orgId: string, over: Partial<AccessToken> = {}): AccessToken {
  const id = `at-${randomUUID()}`;
  return {
    id, hash: `hash-${id}`, orgId, userId: null, clientId: 'some-client', sessionId: null, grantId: `grant-${id}`, scope: 'openid',
    issuedAt: T0, expiresAt: T0 + 24 * 60 * MIN, lastActivityAt: T0, idleDeadlineAt: T0 + 15 * MIN, revokedAt: null, revokeReason: null, ...over,
  };
}

const expiry = (t: AccessToken, deadline = t.idleDeadlineAt ?? T0): IdleExpiry => ({ token: t, deadline, endSignInSession: false, setUserOffline: false });

export function storeTruthConformance(store: () => Store, newOrg: () => Promise<string>) {
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

    test('expireIdleTokens ends only tokens whose stored deadline has passed: moved or lifted deadlines keep theirs', async () => {
      const orgId = await newOrg();
      const due = token(orgId);
      const movedLater = token(orgId);
      const lifted = token(orgId, { idleDeadlineAt: null });
      for (const t of [due, movedLater, lifted]) await store().saveAccessToken(t);
      await store().recordActivity([{ id: movedLater.id, lastActivityAt: T0 + 10 * MIN, idleDeadlineAt: T0 + 25 * MIN }]);

      const expired = await store().expireIdleTokens([due, movedLater, lifted].map((t) => expiry(t, T0 + 15 * MIN)), T0 + 15 * MIN);
      assert.deepEqual(expired, [due.id]);
      assert.equal((await store().findAccessTokenByHash(movedLater.hash))?.revokedAt, null);
      assert.equal((await store().findAccessTokenByHash(lifted.hash))?.revokedAt, null);
      assert.equal((await store().findAccessTokenByHash(due.hash))?.revokeReason, 'idle_timeout');
    });
  });

  describe('revocation log', () => {
    test('every ended access token is logged once, in commit order, with its reason; nothing ended logs nothing', async () => {
      const orgId = await newOrg();
      const start = await store().lastRevocationSeq();
      const userId = `user-${randomUUID()}`;
      const a = token(orgId, { userId });
      const b = token(orgId, { userId });
      const idle = token(orgId);
      for (const t of [a, b, idle]) await store().saveAccessToken(t);

      await store().revoke({ userId }, T0 + MIN, 'universal_logout');
      await store().revoke({ userId }, T0 + 2 * MIN, 'admin_logoff');
      await store().expireIdleTokens([expiry(idle)], T0 + 16 * MIN);

      const log = await store().revocationsAfter(start, 100);
      assert.deepEqual(
        log.map((e) => [e.reason, e.at]),
        [['universal_logout', T0 + MIN], ['universal_logout', T0 + MIN], ['idle_timeout', T0 + 16 * MIN]],
      );
      assert.deepEqual(new Set(log.slice(0, 2).map((e) => e.tokenHash)), new Set([a.hash, b.hash]));
      assert.equal(log[2]!.tokenHash, idle.hash);
      assert.ok(log.every((e, i) => i === 0 || e.seq > log[i - 1]!.seq), 'sequence numbers increase');
      assert.equal(await store().lastRevocationSeq(), log[2]!.seq);
      assert.deepEqual((await store().revocationsAfter(log[0]!.seq, 1)).map((e) => e.seq), [log[1]!.seq], 'paged by seq and limit');
    });

    test('purgeExpired drops log entries older than its horizon and keeps the newer ones', async () => {
      const orgId = await newOrg();
      const old = token(orgId);
      const recent = token(orgId);
      for (const t of [old, recent]) await store().saveAccessToken(t);
      await store().revoke({ accessTokenId: old.id }, T0 + MIN, 'revocation');
      await store().revoke({ accessTokenId: recent.id }, T0 + 10 * MIN, 'revocation');
      const counts = await store().purgeExpired(T0 + 5 * MIN);
      assert.equal(counts.revocationLog, 1);
      assert.deepEqual((await store().revocationsAfter(0, 100)).map((e) => e.tokenHash), [recent.hash]);
    });
  });
}
