import pg from 'pg';
import type {
  AccessToken, ActivityUpdate, AuditEntry, AuditFilter, AuthCode, BackchannelAttempt, ChannelRecord, Client, ClientSession, ClusterChange,
  Group, IdleExpired, IdleExpiry, Interaction, NodeLease, Org, OrgSettings, RefreshToken, RevokedSet, RevokeExtras, RevokeReason,
  RevokeSelection, SignInSession, SigningKey, User, UserStatus,
} from '../../core/records.ts';
import type { OutboxStats, PurgeCounts, Store } from '../store.ts';
import { migrate, MIGRATIONS } from './migrations.ts';
import {
  accessTokenColumns, auditColumns, authCodeColumns, channelColumns, clientColumns, groupColumns, interactionColumns, num, outboxColumns,
  refreshTokenColumns, signInSessionColumns, toAccessToken, toAudit, toAuthCode, toBackchannelLogout, toChannel, toClient,
  toClusterLogEntry, toGroup, toInteraction, toNodeLease, toOrg, toRefreshToken, toSigningKey, toSignInSession, toUser, toUserStatus,
  userColumns, userStatusColumns, type Columns, type Row,
} from './rows.ts';
import { asConflict, codeOf, insertMany, insertManySql, insertSql, noLiveToken, revokeScope, stampSql, together, updateSql, type Clause, type Db, type Statement } from './sql.ts';

/** deadlock_detected, serialization_failure: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const TRANSACTION_TRIES = 3;
/** How long close() waits for the pool's connections to end (one still connecting may never report its end). */
const CLOSE_WAIT_MS = 2_000;

/**
 * Transaction-scoped advisory locks (any fixed numbers, other than the migrations' lock).
 * CLUSTER_LOG: cluster-log appends draw seqs as they go and may commit out of order, so a reader must never pass a
 * seq whose transaction is still open. Each append holds this lock shared, from just before it draws its seqs to
 * its commit; appends never wait for each other (their commits share WAL flushes). A reader that finds a gap it
 * cannot wait out holds it exclusively while it reads: every seq drawn before is then committed or rolled back.
 */
export const CLUSTER_LOG_LOCK = 0x4c6f_636b_4c67;
/** How long a reader stays stopped at a cluster-log gap before it reads across it under the lock (see logAfter). */
const GAP_WAIT_MS = 100;
const SIGNING_KEY_LOCK = 0x4c6f_636b_4b79;
/** Idle sweeps of several nodes take turns, so each decides "left without a live token" seeing the others' ends. */
const IDLE_SWEEP_LOCK = 0x4c6f_636b_4964;

const MEMBER_IDS = 'ARRAY(SELECT m.user_id FROM group_members m WHERE m.group_id = g.id ORDER BY m.user_id COLLATE "C") AS member_ids';
const ENDED_TOKEN = 'id, hash, org_id, user_id, client_id, session_id, grant_id';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Hears the migrations applied and connection failures; never the URL, a token or a secret. */
  log?: (msg: string) => void;
}

/** PostgreSQL through a node-postgres pool, for several Lockstep nodes sharing one database. */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  /** The cluster-log gap the last read stopped at, and since when (see logAfter). */
  #gap: { seq: number; since: number } | null = null;
  #closed = false;

  private constructor(url: string, opts: PostgresStoreOptions) {
    this.#pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
    // Without a listener, an idle connection that breaks (a server restart) would crash the process. After close(), the
    // pool has let its connections go but they may still be closing: their end is no failure.
    this.#pool.on('error', (err) => {
      if (!this.#closed) opts.log?.(`postgres: idle connection failed: ${err.message}`);
    });
  }

  /** Connects and migrates (nodes starting together take turns on an advisory lock). */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, opts);
    try {
      await migrate(store.#pool, opts.log);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    // pool.end() resolves once the pool lets go of its connections, before they have closed: wait for that too (a
    // little), so what comes next (the process exiting, a test dropping the database) finds no session of ours left.
    let open = this.#pool.totalCount;
    const closed = new Promise<void>((resolve) => {
      if (open === 0) resolve();
      this.#pool.on('remove', () => --open === 0 && resolve());
    });
    await this.#pool.end();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
  }

  async pendingMigrations() {
    const applied = new Set((await this.#rows('SELECT version FROM schema_migrations')).map((r) => num(r.version)));
    return MIGRATIONS.filter((m) => !applied.has(m.version)).length;
  }

  async #query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await this.#pool.query(sql, params);
    } catch (err) {
      throw asConflict(err);
    }
  }

  async #rows(sql: string, params: unknown[] = []): Promise<any[]> {
    return (await this.#query(sql, params)).rows;
  }

  async #changed(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.#query(sql, params)).rowCount ?? 0;
  }

  /**
   * BEGIN … COMMIT on one pooled connection (READ COMMITTED), first taking `lock` when given; ROLLBACK on any
   * error. A deadlock or serialization failure runs `work` again, so `work` must not keep effects outside it.
   */
  async #transaction<T>(work: (db: pg.PoolClient) => Promise<T>, lock?: number): Promise<T> {
    for (let tries = 1; ; tries++) {
      const db = await this.#pool.connect();
      try {
        await db.query('BEGIN');
        if (lock !== undefined) await db.query('SELECT pg_advisory_xact_lock($1)', [lock]);
        const result = await work(db);
        await db.query('COMMIT');
        db.release();
        return result;
      } catch (err) {
        await db.query('ROLLBACK').then(() => db.release(), (broken: Error) => db.release(broken));
        if (tries < TRANSACTION_TRIES && RETRYABLE.has(codeOf(err))) continue;
        throw asConflict(err);
      }
    }
  }

  // ------------------------------------------------------------ orgs

  async createOrg(org: Org, settings: OrgSettings) {
    await this.#query(...insertSql('orgs', { id: org.id, name: org.name, settings: JSON.stringify(settings), created_at: org.createdAt }));
  }
  async getOrg(id: string) {
    const [r] = await this.#rows('SELECT id, name, created_at FROM orgs WHERE id = $1', [id]);
    return r ? toOrg(r) : null;
  }
  async countOrgs() {
    const [r] = await this.#rows('SELECT count(*) AS n FROM orgs');
    return num(r.n);
  }
  async getOrgSettings(orgId: string) {
    const [r] = await this.#rows('SELECT settings FROM orgs WHERE id = $1', [orgId]);
    return r ? (r.settings as OrgSettings) : null;
  }
  async saveOrgSettings(orgId: string, settings: OrgSettings) {
    await this.#query('UPDATE orgs SET settings = $2 WHERE id = $1', [orgId, JSON.stringify(settings)]);
  }

  // ------------------------------------------------------------ users

  async createUser(u: User) {
    await this.#query(...insertSql('users', userColumns(u)));
  }
  async getUser(orgId: string, id: string) {
    const [r] = await this.#rows('SELECT * FROM users WHERE org_id = $1 AND id = $2', [orgId, id]);
    return r ? toUser(r) : null;
  }
  async findUserByEmail(email: string) {
    const [r] = await this.#rows('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
    return r ? toUser(r) : null;
  }
  async listUsers(orgId: string) {
    return (await this.#rows('SELECT * FROM users WHERE org_id = $1 ORDER BY lower(email) COLLATE "C"', [orgId])).map(toUser);
  }
  async updateUser(u: User) {
    const { email, name, password_hash, roles, version, updated_at } = userColumns(u);
    const changed = await this.#changed(...updateSql('users',
      { email, name, password_hash, roles, version, updated_at },
      { org_id: u.orgId, id: u.id, version: u.version - 1 }));
    return changed > 0;
  }
  async deleteUser(orgId: string, id: string) {
    return (await this.#changed('DELETE FROM users WHERE org_id = $1 AND id = $2', [orgId, id])) > 0;
  }

  // ------------------------------------------------------------ groups

  /** Replaces the members with those of `g.memberIds` that are users of the group's org. */
  async #setMembers(db: pg.PoolClient, g: Group) {
    await db.query('DELETE FROM group_members WHERE group_id = $1', [g.id]);
    await db.query('INSERT INTO group_members (group_id, user_id) SELECT $1, id FROM users WHERE org_id = $2 AND id = ANY($3)',
      [g.id, g.orgId, g.memberIds]);
  }
  async createGroup(g: Group) {
    await this.#transaction(async (db) => {
      await db.query(...insertSql('user_groups', groupColumns(g)));
      await this.#setMembers(db, g);
    });
  }
  async getGroup(orgId: string, id: string) {
    const [r] = await this.#rows(`SELECT g.*, ${MEMBER_IDS} FROM user_groups g WHERE g.org_id = $1 AND g.id = $2`, [orgId, id]);
    return r ? toGroup(r) : null;
  }
  async listGroups(orgId: string) {
    return (await this.#rows(`SELECT g.*, ${MEMBER_IDS} FROM user_groups g WHERE g.org_id = $1 ORDER BY g.name COLLATE "C"`, [orgId])).map(toGroup);
  }
  async updateGroup(g: Group) {
    const { name, description, visibility, rules_visible, version, updated_at } = groupColumns(g);
    return this.#transaction(async (db) => {
      const { rowCount } = await db.query(...updateSql('user_groups',
        { name, description, visibility, rules_visible, version, updated_at },
        { org_id: g.orgId, id: g.id, version: g.version - 1 }));
      if (rowCount) await this.#setMembers(db, g);
      return Boolean(rowCount);
    });
  }
  async deleteGroup(orgId: string, id: string) {
    return (await this.#changed('DELETE FROM user_groups WHERE org_id = $1 AND id = $2', [orgId, id])) > 0;
  }
  async listGroupIdsOfUser(orgId: string, userId: string) {
    const rows = await this.#rows(
      'SELECT m.group_id FROM group_members m JOIN user_groups g ON g.id = m.group_id WHERE g.org_id = $1 AND m.user_id = $2',
      [orgId, userId]);
    return rows.map((r) => r.group_id as string);
  }

  // ------------------------------------------------------------ clients and signing keys

  async createClient(c: Client) {
    await this.#query(...insertSql('clients', clientColumns(c)));
  }
  async getClient(id: string) {
    const [r] = await this.#rows('SELECT * FROM clients WHERE id = $1', [id]);
    return r ? toClient(r) : null;
  }
  async listClients(orgId: string) {
    return (await this.#rows('SELECT * FROM clients WHERE org_id = $1 ORDER BY id COLLATE "C"', [orgId])).map(toClient);
  }
  async listAllClients() {
    return (await this.#rows('SELECT * FROM clients ORDER BY id COLLATE "C"')).map(toClient);
  }
  async updateClient(c: Client) {
    const { id: _id, org_id: _org, created_at: _created, ...changeable } = clientColumns(c);
    await this.#query(...updateSql('clients', changeable, { org_id: c.orgId, id: c.id }));
  }
  async deleteClient(orgId: string, id: string) {
    return this.#transaction(async (db) => {
      const { rowCount } = await db.query('DELETE FROM clients WHERE org_id = $1 AND id = $2', [orgId, id]);
      if (!rowCount) return false;
      await db.query("UPDATE backchannel_outbox SET status = 'cancelled' WHERE org_id = $1 AND client_id = $2 AND status = 'pending'", [orgId, id]);
      return true;
    });
  }

  async listSigningKeys() {
    return (await this.#rows('SELECT * FROM signing_keys ORDER BY created_at, kid COLLATE "C"')).map(toSigningKey);
  }
  async ensureSigningKey(k: SigningKey) {
    // The lock makes the check and the insert one step for every node; after it, this statement sees what the holder before committed.
    return this.#transaction(async (db) => {
      await db.query(`INSERT INTO signing_keys (kid, alg, private_jwk, created_at) SELECT $1, $2, $3, $4
          WHERE NOT EXISTS (SELECT 1 FROM signing_keys)`, [k.kid, k.alg, k.privateJwk, k.createdAt]);
      const { rows: [oldest] } = await db.query('SELECT * FROM signing_keys ORDER BY created_at, kid COLLATE "C" LIMIT 1');
      return toSigningKey(oldest);
    }, SIGNING_KEY_LOCK);
  }

  // ------------------------------------------------------------ sign-in sessions and authorization codes

  async createSignInSession(s: SignInSession) {
    await this.#query(...insertSql('sign_in_sessions', signInSessionColumns(s)));
  }
  async getSignInSession(id: string) {
    const [r] = await this.#rows('SELECT * FROM sign_in_sessions WHERE id = $1', [id]);
    return r ? toSignInSession(r) : null;
  }
  async findSignInSessionByHash(tokenHash: string) {
    const [r] = await this.#rows('SELECT * FROM sign_in_sessions WHERE token_hash = $1', [tokenHash]);
    return r ? toSignInSession(r) : null;
  }

  async saveAuthCode(c: AuthCode) {
    await this.#query(...insertSql('auth_codes', authCodeColumns(c)));
  }
  async consumeAuthCode(hash: string, now: number) {
    // Concurrent consumers queue on the row lock; each later one re-checks the committed row, sees consumed_at set and changes nothing.
    const [r] = await this.#rows(
      'UPDATE auth_codes SET consumed_at = $2 WHERE hash = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING *', [hash, now]);
    return r ? toAuthCode(r) : null;
  }
  async findUsedAuthCode(hash: string) {
    const [r] = await this.#rows('SELECT * FROM auth_codes WHERE hash = $1 AND consumed_at IS NOT NULL', [hash]);
    return r ? toAuthCode(r) : null;
  }

  async countLiveAccessTokensOfSession(sessionId: string, now: number) {
    const [r] = await this.#rows(
      'SELECT count(*) AS n FROM access_tokens WHERE session_id = $1 AND revoked_at IS NULL AND expires_at > $2', [sessionId, now]);
    return num(r.n);
  }

  async purgeExpired(before: number): Promise<PurgeCounts> {
    return this.#transaction(async (db) => {
      const deleted = async (sql: string, params: unknown[] = [before]) => (await db.query(sql, params)).rowCount ?? 0;
      // Locked, so an attempt being recorded for one of them meanwhile waits rather than breaking the foreign key.
      const { rows } = await db.query("SELECT id FROM backchannel_outbox WHERE status <> 'pending' AND created_at < $1 FOR UPDATE", [before]);
      const finished = rows.map((r) => r.id as string);
      await db.query('DELETE FROM backchannel_attempts WHERE outbox_id = ANY($1)', [finished]);
      await db.query('DELETE FROM nodes WHERE lease_until < $1', [before]);
      return {
        accessTokens: await deleted('DELETE FROM access_tokens WHERE expires_at < $1 OR revoked_at < $1'),
        refreshTokens: await deleted('DELETE FROM refresh_tokens WHERE expires_at < $1 OR revoked_at < $1'),
        authCodes: await deleted('DELETE FROM auth_codes WHERE expires_at < $1'),
        signInSessions: await deleted('DELETE FROM sign_in_sessions WHERE expires_at < $1 OR ended_at < $1'),
        backchannelDeliveries: await deleted('DELETE FROM backchannel_outbox WHERE id = ANY($1)', [finished]),
        clusterLog: await deleted('DELETE FROM cluster_log WHERE at < $1'),
        channels: await deleted('DELETE FROM channels WHERE expires_at < $1'),
      };
    });
  }

  // ------------------------------------------------------------ access and refresh tokens

  async saveAccessToken(t: AccessToken) {
    await this.#query(...insertSql('access_tokens', accessTokenColumns(t)));
  }
  async findAccessTokenByHash(hash: string) {
    const [r] = await this.#rows('SELECT * FROM access_tokens WHERE hash = $1', [hash]);
    return r ? toAccessToken(r) : null;
  }
  async liveAccessTokensOfUser(orgId: string, userId: string, now: number, limit: number) {
    const rows = await this.#rows(`SELECT * FROM access_tokens WHERE user_id = $1 AND org_id = $2 AND revoked_at IS NULL AND expires_at > $3
        ORDER BY issued_at, id COLLATE "C" LIMIT $4`, [userId, orgId, now, limit]);
    return rows.map(toAccessToken);
  }
  async dueIdleTokens(now: number, limit: number) {
    const rows = await this.#rows(`SELECT * FROM access_tokens WHERE revoked_at IS NULL AND expires_at > $1 AND idle_deadline_at <= $1
        ORDER BY idle_deadline_at, id COLLATE "C" LIMIT $2`, [now, limit]);
    return rows.map(toAccessToken);
  }
  async recordActivity(batch: ActivityUpdate[]) {
    if (!batch.length) return;
    // One statement for the batch, as if applied in order: of a token named twice, its newest activity (on a tie, the later entry).
    // In a transaction only to be run again should it deadlock with a revocation locking the same rows in another order.
    await this.#transaction((db) => db.query(`
      UPDATE access_tokens t SET last_activity_at = b.at, idle_deadline_at = b.deadline
      FROM (
        SELECT DISTINCT ON (id) id, at, deadline
        FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS b(id, at, deadline, n)
        ORDER BY id, at DESC, n DESC) b
      WHERE t.id = b.id AND t.revoked_at IS NULL AND t.last_activity_at <= b.at`,
    [batch.map((b) => b.id), batch.map((b) => b.lastActivityAt), batch.map((b) => b.idleDeadlineAt)]));
  }

  async saveRefreshToken(t: RefreshToken) {
    await this.#query(...insertSql('refresh_tokens', refreshTokenColumns(t)));
  }
  async findRefreshTokenByHash(hash: string) {
    const [r] = await this.#rows('SELECT * FROM refresh_tokens WHERE hash = $1', [hash]);
    return r ? toRefreshToken(r) : null;
  }
  async rotateRefreshToken(previousId: string, next: RefreshToken, now: number) {
    return this.#transaction(async (db) => {
      const { rowCount } = await db.query(
        'UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL', [previousId, now]);
      if (!rowCount) return false;
      await db.query(...insertSql('refresh_tokens', refreshTokenColumns(next)));
      return true;
    });
  }

  // ------------------------------------------------------------ the cluster log, node leases, channels

  // Read under the cluster-log lock, exclusively (see CLUSTER_LOG_LOCK): no append is open meanwhile, so nothing below what is read can still appear.
  async lastLogSeq() {
    const { rows: [r] } = await this.#transaction((db) => db.query('SELECT coalesce(max(seq), 0) AS seq FROM cluster_log'), CLUSTER_LOG_LOCK);
    return num(r.seq);
  }
  async logAfter(seq: number, limit: number) {
    const read = (db: Db) => db.query('SELECT * FROM cluster_log WHERE seq > $1 ORDER BY seq LIMIT $2', [seq, limit]);
    // Entries numbered on from `seq` without a gap leave no open append among them: read so, appends never wait.
    const entries = (await read(this.#pool)).rows.map(toClusterLogEntry);
    let gapless = 0;
    while (gapless < entries.length && entries[gapless]!.seq === seq + 1 + gapless) gapless++;
    if (gapless === entries.length) return entries;
    // A gap: an append still open, which announces itself once committed, or one rolled back, which never fills.
    // Read up to it; a gap that stops all progress for GAP_WAIT_MS is read across under the lock (waiting for any open append).
    const gapAt = seq + 1 + gapless;
    if (gapless) return entries.slice(0, gapless);
    const now = Date.now();
    if (this.#gap?.seq !== gapAt) this.#gap = { seq: gapAt, since: now };
    if (now - this.#gap.since < GAP_WAIT_MS) return [];
    this.#gap = null;
    return (await this.#transaction(read, CLUSTER_LOG_LOCK)).rows.map(toClusterLogEntry);
  }
  async appendChange(change: ClusterChange, at: number) {
    const userId = change.kind === 'user_changed' ? change.userId : null;
    // One statement, its own transaction: the lock (see logEndedSql) is held until it commits.
    const [r] = await this.#rows(`INSERT INTO cluster_log (at, kind, org_id, user_id)
        SELECT $1, $2, $3, $4 FROM (SELECT pg_advisory_xact_lock_shared($5)) AS lock RETURNING seq`,
    [at, change.kind, change.orgId, userId, CLUSTER_LOG_LOCK]);
    return num(r.seq);
  }

  async renewNodeLease(n: NodeLease) {
    await this.#query(...insertSql('nodes', { node_id: n.nodeId, lease_until: n.leaseUntil, applied_seq: n.appliedSeq },
      'ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until, applied_seq = greatest(nodes.applied_seq, excluded.applied_seq)'));
  }
  async listNodeLeases() {
    return (await this.#rows('SELECT * FROM nodes ORDER BY node_id COLLATE "C"')).map(toNodeLease);
  }
  async releaseNodeLease(nodeId: string) {
    await this.#query('DELETE FROM nodes WHERE node_id = $1', [nodeId]);
  }

  async saveChannel(c: ChannelRecord) {
    const { id: _id, ...rest } = channelColumns(c);
    const update = Object.keys(rest).map((column) => `${column} = excluded.${column}`).join(', ');
    await this.#query(...insertSql('channels', channelColumns(c), `ON CONFLICT (id) DO UPDATE SET ${update}`));
  }
  async getChannel(id: string) {
    const [r] = await this.#rows('SELECT * FROM channels WHERE id = $1', [id]);
    return r ? toChannel(r) : null;
  }
  async setChannelTopics(id: string, topics: string[]) {
    return (await this.#changed('UPDATE channels SET topics = $2 WHERE id = $1', [id, JSON.stringify(topics)])) > 0;
  }
  async deleteChannel(id: string) {
    return (await this.#changed('DELETE FROM channels WHERE id = $1', [id])) > 0;
  }

  // ------------------------------------------------------------ revocation and idle expiry

  async revoke(
    selection: RevokeSelection, now: number, reason: RevokeReason,
    extras?: (revoked: Omit<RevokedSet, 'logSeq'>, clientSessions: () => ClientSession[]) => RevokeExtras,
  ): Promise<RevokedSet> {
    const scope = revokeScope(selection);
    return this.#transaction(async (db) => {
      // Two statements: the stamps (with what `extras` may ask for, read beforehand: it is synchronous), then the
      // audit entry, Offline status, outbox rows and cluster-log entries.
      const { rows: [r] } = await run(db, stampsSql(scope, now, reason));
      const accessRows = r.access as Row[];
      const revoked: RevokedSet = {
        accessTokens: accessRows.map((t) => ({
          id: t.id, hash: t.hash, orgId: t.org_id, userId: t.user_id, clientId: t.client_id, sessionId: t.session_id, grantId: t.grant_id,
        })),
        refreshTokenIds: r.refresh as string[],
        signInSessionIds: r.sessions as string[],
        logSeq: 0,
      };
      const x = extras?.(revoked, () => clientSessions(revoked, r.ties as Row[])) ?? {};
      const { rows } = await run(db, together([
        ['audit', x.audit ? insertManySql('audit_log', [auditColumns(x.audit)]) : null],
        ['offline', x.setUserOffline ? setOfflineSql([x.setUserOffline], now) : null],
        ['outbox', insertManySql('backchannel_outbox', (x.outbox ?? []).map(outboxColumns))],
      ], logEndedSql(accessRows.map((t) => t.hash as string), now, reason)));
      revoked.logSeq = lastSeq(rows);
      return revoked;
    });
  }

  async expireIdleTokens(batch: IdleExpiry[], now: number): Promise<IdleExpired[]> {
    if (!batch.length) return [];
    return this.#transaction(async (db) => {
      // The guard is the stored deadline: one moved later (activity flushed by any node) or lifted (exempt) keeps the token.
      // A sweep of another node that ended the token first committed before this one got the lock: it is skipped.
      const { rows } = await db.query(`UPDATE access_tokens SET revoked_at = $2, revoke_reason = 'idle_timeout'
          WHERE id = ANY($1) AND revoked_at IS NULL AND idle_deadline_at <= $2 RETURNING ${ENDED_TOKEN}`,
      [batch.map((e) => e.token.id), now]);
      const byId = new Map(rows.map((r) => [r.id as string, r]));
      // In the batch's order; a token listed twice ends (and is audited) once.
      const ended = batch.flatMap((e) => {
        const row = byId.get(e.token.id);
        byId.delete(e.token.id);
        return row ? [{ e, row }] : [];
      });
      if (!ended.length) return [];

      await db.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE grant_id = ANY($1) AND revoked_at IS NULL',
        [ended.map(({ row }) => row.grant_id), now]);
      // Decided after every token of the sweep ended: what is left live is what this sweep left.
      const { rows: sessionRows } = await db.query(`UPDATE sign_in_sessions s SET ended_at = $2
          WHERE s.id = ANY($1) AND s.ended_at IS NULL AND ${noLiveToken('t.session_id = s.id', '$2')}
          RETURNING s.id`,
      [ended.flatMap(({ row }) => (row.session_id == null ? [] : [row.session_id])), now]);
      const users = ended.filter(({ row }) => row.user_id != null).map(({ row }) => row);
      const { rows: offlineRows } = await db.query(`SELECT DISTINCT u.org_id, u.user_id FROM unnest($1::text[], $2::text[]) AS u(org_id, user_id)
          WHERE ${noLiveToken('t.org_id = u.org_id AND t.user_id = u.user_id', '$3')}`,
      [users.map((r) => r.org_id), users.map((r) => r.user_id), now]);
      await setOffline(db, offlineRows.map((r) => ({ orgId: r.org_id, userId: r.user_id })), now);

      const sessionsEnded = new Set(sessionRows.map((r) => r.id as string));
      const offline = new Set(offlineRows.map((r) => JSON.stringify([r.org_id, r.user_id])));
      const results = ended.map(({ e, row }) => ({
        e, row,
        // The first of the session's tokens in the batch is the one that ended it, as if the sweep went token by token.
        sessionEnded: row.session_id != null && sessionsEnded.delete(row.session_id),
        userOffline: row.user_id != null && offline.has(JSON.stringify([row.org_id, row.user_id])),
      }));
      await insertAudit(db, results.map(({ e, row, sessionEnded, userOffline }) => ({
        orgId: row.org_id, at: now, kind: 'idle_timeout', userId: row.user_id, clientId: row.client_id,
        details: {
          accessTokenId: row.id, deadline: new Date(e.deadline).toISOString(), noticedAt: new Date(now).toISOString(),
          latenessMs: now - e.deadline, signInSessionEnded: sessionEnded, userSetOffline: userOffline,
        },
      })));
      await run(db, logEndedSql(ended.map(({ row }) => row.hash), now, 'idle_timeout'));
      return results.map(({ row, sessionEnded, userOffline }) => ({ id: row.id as string, sessionEnded, userOffline }));
    }, IDLE_SWEEP_LOCK);
  }

  // ------------------------------------------------------------ back-channel logout outbox

  async claimBackchannelLogouts(now: number, limit: number, claimUntil: number, except: { uris?: readonly string[] } = {}) {
    // Claimed rows stay pending but are skipped by every caller until the claim lapses or the attempt is recorded;
    // SKIP LOCKED lets two nodes claiming at the same moment take different rows instead of waiting on each other,
    // and a row claimed by a commit after this statement's snapshot is re-checked (claimed_until) once locked.
    const rows = await this.#rows(`
      WITH due AS (
        SELECT id FROM backchannel_outbox
        WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) AND uri <> ALL($2::text[])
        ORDER BY next_attempt_at, id COLLATE "C"
        LIMIT $3
        FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE backchannel_outbox o SET claimed_until = $4 FROM due WHERE o.id = due.id RETURNING o.*)
      SELECT * FROM claimed ORDER BY next_attempt_at, id COLLATE "C"`,
    [now, [...(except.uris ?? [])], limit, claimUntil]);
    return rows.map(toBackchannelLogout);
  }

  async recordBackchannelAttempt(id: string, at: number, attempt: BackchannelAttempt) {
    await this.#transaction(async (db) => {
      const { rows: [row] } = await db.query(
        'SELECT org_id, client_id, user_id, attempts, status FROM backchannel_outbox WHERE id = $1 FOR UPDATE', [id]);
      if (!row) return;
      // Cancelled (its client deleted) while this attempt was in flight: it stays cancelled.
      const pending = row.status === 'pending';
      const a: BackchannelAttempt = pending ? attempt : { ...attempt, outcome: attempt.outcome === 'retry' ? 'failed' : attempt.outcome, nextAttemptAt: null };
      const status = !pending ? row.status : a.outcome === 'retry' ? 'pending' : a.outcome;
      await db.query(`UPDATE backchannel_outbox SET attempts = attempts + 1, status = $2, next_attempt_at = coalesce($3, next_attempt_at),
          claimed_until = NULL WHERE id = $1`, [id, status, a.nextAttemptAt]);
      await db.query(...insertSql('backchannel_attempts', {
        outbox_id: id, at, outcome: a.outcome, status_code: a.statusCode, error: a.error, next_attempt_at: a.nextAttemptAt,
      }));
      await insertAudit(db, [{
        orgId: row.org_id, at, kind: 'backchannel_logout', userId: row.user_id, clientId: row.client_id,
        details: {
          jti: id, attempt: num(row.attempts) + 1, outcome: a.outcome, result: a.result, statusCode: a.statusCode, error: a.error,
          nextAttemptAt: a.nextAttemptAt == null ? null : new Date(a.nextAttemptAt).toISOString(),
        },
      }]);
    });
  }

  async backchannelOutboxStats(): Promise<OutboxStats> {
    const [r] = await this.#rows("SELECT count(*) AS n, min(created_at) AS oldest FROM backchannel_outbox WHERE status = 'pending'");
    return { pending: num(r.n), oldestCreatedAt: r.oldest == null ? null : num(r.oldest) };
  }

  // ------------------------------------------------------------ user status and interactions

  async getUserStatus(orgId: string, userId: string) {
    const [r] = await this.#rows('SELECT * FROM user_status WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
    return r ? toUserStatus(r) : null;
  }
  async saveUserStatus(s: UserStatus) {
    await this.#query(...insertSql('user_status', userStatusColumns(s), `ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence,
      presence_at = excluded.presence_at, routing_status = excluded.routing_status, routing_at = excluded.routing_at`));
  }

  async saveInteraction(i: Interaction) {
    await this.#query(...insertSql('interactions', interactionColumns(i),
      'ON CONFLICT (user_id, id) DO UPDATE SET type = excluded.type, state = excluded.state, updated_at = excluded.updated_at'));
  }
  async deleteInteraction(userId: string, id: string) {
    return (await this.#changed('DELETE FROM interactions WHERE user_id = $1 AND id = $2', [userId, id])) > 0;
  }
  async listInteractions(userId?: string) {
    const rows = userId == null ? await this.#rows('SELECT * FROM interactions') : await this.#rows('SELECT * FROM interactions WHERE user_id = $1', [userId]);
    return rows.map(toInteraction);
  }

  // ------------------------------------------------------------ audit log

  async appendAudit(e: Omit<AuditEntry, 'id'>) {
    await insertAudit(this.#pool, [e]);
  }
  async listAudit(orgId: string, f: AuditFilter) {
    const params: unknown[] = [orgId];
    const where = ['org_id = $1'];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (f.userId) where.push(`user_id = ${param(f.userId)}`);
    if (f.kind) where.push(`kind = ${param(f.kind)}`);
    if (f.from != null) where.push(`at >= ${param(f.from)}`);
    if (f.to != null) where.push(`at <= ${param(f.to)}`);
    const filter = where.join(' AND ');
    const [{ total }] = await this.#rows(`SELECT count(*) AS total FROM audit_log WHERE ${filter}`, params);
    const page = [...params, f.limit ?? 100, f.offset ?? 0];
    const rows = await this.#rows(
      `SELECT * FROM audit_log WHERE ${filter} ORDER BY at DESC, id DESC LIMIT $${page.length - 1} OFFSET $${page.length}`, page);
    return { entries: rows.map(toAudit), total: num(total) };
  }
}


/**
 * Appends a token_ended entry per hash, in order, late in the transaction (the shared lock it takes first is held
 * to the commit: see CLUSTER_LOG_LOCK). The lock is a one-row subquery joined to the hashes, so it is taken before
 * the first row draws its seq.
 */
function logEndedSql(hashes: string[], at: number, reason: RevokeReason): Statement {
  return {
    sql: `INSERT INTO cluster_log (at, kind, token_hash, reason)
      SELECT $2::bigint, 'token_ended', h.hash, $3::text FROM (SELECT pg_advisory_xact_lock_shared($4)) AS lock, unnest($1::text[]) WITH ORDINALITY AS h(hash, n)
      ORDER BY h.n RETURNING seq`,
    params: [hashes, at, reason, CLUSTER_LOG_LOCK],
  };
}

const lastSeq = (rows: Row[]) => rows.reduce((last, r) => Math.max(last, num(r.seq)), 0);
const run = (db: Db, st: Statement) => db.query(st.sql, st.params);

/**
 * The three stamps of a revocation in one statement: the access tokens ended (ENDED_TOKEN columns), the refresh
 * token and sign-in session ids, and the (client, session) pairs of the refresh tokens and of every access token
 * issued through an ended session (read as before the statement: session ids do not change).
 */
function stampsSql(scope: ReturnType<typeof revokeScope>, now: number, reason: RevokeReason): Statement {
  // A selection without refresh tokens or sessions reads an empty stand-in of the same columns.
  const none = (...columns: string[]) => ({ sql: `SELECT ${columns.map((c) => `NULL::text AS ${c}`).join(', ')} WHERE false`, params: [] });
  return together([
    ['a', stampSql('access_tokens', 'revoked_at', scope.access, { revoked_at: now, revoke_reason: reason }, ENDED_TOKEN)],
    ['r', scope.refresh ? stampSql('refresh_tokens', 'revoked_at', scope.refresh, { revoked_at: now }, 'id, client_id, session_id') : none('id', 'client_id', 'session_id')],
    ['s', scope.sessions ? stampSql('sign_in_sessions', 'ended_at', scope.sessions, { ended_at: now }, 'id') : none('id')],
  ], {
    sql: `SELECT (SELECT coalesce(json_agg(a), '[]') FROM a) AS access,
        (SELECT coalesce(json_agg(r.id), '[]') FROM r) AS refresh,
        (SELECT coalesce(json_agg(s.id), '[]') FROM s) AS sessions,
        (SELECT coalesce(json_agg(t), '[]') FROM (SELECT client_id, session_id FROM r
          UNION SELECT client_id, session_id FROM access_tokens WHERE session_id IN (SELECT id FROM s)) AS t) AS ties`,
    params: [],
  });
}

/** See Store.revoke: the (client, session) pairs of the revoked tokens and of the rows `stampsSql` tied to them. */
function clientSessions(revoked: Omit<RevokedSet, 'logSeq'>, ties: Row[]): ClientSession[] {
  const pairs = new Map<string, ClientSession>();
  const add = (clientId: string, sessionId: string | null) => pairs.set(JSON.stringify([clientId, sessionId]), { clientId, sessionId });
  for (const t of revoked.accessTokens) add(t.clientId, t.sessionId);
  for (const t of ties) add(t.client_id, t.session_id);
  return [...pairs.values()];
}

/** In the order given, so entries of one moment list newest-appended first. */
function insertAudit(db: Db, entries: Omit<AuditEntry, 'id'>[]) {
  return insertMany(db, 'audit_log', entries.map(auditColumns));
}

function setOfflineSql(users: { orgId: string; userId: string }[], now: number): Statement {
  return {
    sql: `INSERT INTO user_status (user_id, org_id, presence, presence_at, routing_status, routing_at)
      SELECT DISTINCT ON (user_id) user_id, org_id, 'Offline', $3::bigint, 'OFF_QUEUE', $3::bigint FROM unnest($1::text[], $2::text[]) AS u(user_id, org_id)
      ON CONFLICT (user_id) DO UPDATE SET presence = 'Offline', presence_at = excluded.presence_at, routing_status = 'OFF_QUEUE',
        routing_at = excluded.routing_at`,
    params: [users.map((u) => u.userId), users.map((u) => u.orgId), now],
  };
}

async function setOffline(db: Db, users: { orgId: string; userId: string }[], now: number) {
  if (users.length) await run(db, setOfflineSql(users, now));
}
