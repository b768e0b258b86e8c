import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  AccessToken, AuditEntry, AuditFilter, AuthCode, Client, Group, Org, OrgSettings, RefreshToken,
  RevokeReason, SignInSession, SigningKey, User, UserStatus, Interaction, IdleExpiry, IdleExpired,
  BackchannelAttempt, RevokeExtras, ActivityUpdate, ClientSession, RevokeSelection, RevokedSet,
  ClusterChange, NodeLease, ChannelRecord,
} from '../../core/records.ts';
import { StoreConflictError, type OutboxStats, type PurgeCounts, type Store } from '../store.ts';
import { migrate, MIGRATIONS } from './migrations.ts';
import {
  toAccessToken, toAudit, toAuthCode, toBackchannelLogout, toChannel, toClient, toClusterLogEntry, toGroup, toNodeLease, toRefreshToken,
  toSignInSession, toSigningKey, toUser,
} from './rows.ts';

const str = JSON.stringify;

/** The embedded default: one SQLite file in WAL mode. better-sqlite3 is synchronous, so every transaction is atomic in-process. */
export class SqliteStore implements Store {
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') keepPrivate(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** Prepared once per distinct SQL text (a bounded set: dynamic SQL varies only by which filters are present). */
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  async close() {
    if (this.db.open) this.db.close();
  }

  async pendingMigrations() {
    const applied = new Set((this.#sql('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    return MIGRATIONS.filter((m) => !applied.has(m.version)).length;
  }

  #conflicts<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') ||
          (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new StoreConflictError((err as Error).message);
      }
      throw err;
    }
  }

  async createOrg(org: Org, settings: OrgSettings) {
    this.#conflicts(() =>
      this.#sql('INSERT INTO orgs (id, name, settings, created_at) VALUES (?, ?, ?, ?)').run(org.id, org.name, str(settings), org.createdAt),
    );
  }
  async getOrg(id: string) {
    const r = this.#sql('SELECT id, name, created_at FROM orgs WHERE id = ?').get(id) as any;
    return r ? { id: r.id, name: r.name, createdAt: r.created_at } : null;
  }
  async countOrgs() {
    return (this.#sql('SELECT count(*) AS n FROM orgs').get() as { n: number }).n;
  }
  async getOrgSettings(orgId: string) {
    const r = this.#sql('SELECT settings FROM orgs WHERE id = ?').get(orgId) as { settings: string } | undefined;
    return r ? (JSON.parse(r.settings) as OrgSettings) : null;
  }
  async saveOrgSettings(orgId: string, settings: OrgSettings) {
    this.#sql('UPDATE orgs SET settings = ? WHERE id = ?').run(str(settings), orgId);
  }

  async createUser(u: User) {
    this.#conflicts(() =>
      this.#sql('INSERT INTO users (id, org_id, email, name, password_hash, roles, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(u.id, u.orgId, u.email, u.name, u.passwordHash, str(u.roles), u.version, u.createdAt, u.updatedAt),
    );
  }
  async getUser(orgId: string, id: string) {
    const r = this.#sql('SELECT * FROM users WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? toUser(r) : null;
  }
  async findUserByEmail(email: string) {
    const r = this.#sql('SELECT * FROM users WHERE email = ?').get(email);
    return r ? toUser(r) : null;
  }
  async listUsers(orgId: string) {
    return this.#sql('SELECT * FROM users WHERE org_id = ? ORDER BY email').all(orgId).map(toUser);
  }
  async updateUser(u: User) {
    return this.#conflicts(() =>
      this.#sql('UPDATE users SET email = ?, name = ?, password_hash = ?, roles = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ? AND version = ?')
        .run(u.email, u.name, u.passwordHash, str(u.roles), u.version, u.updatedAt, u.orgId, u.id, u.version - 1).changes > 0,
    );
  }
  async deleteUser(orgId: string, id: string) {
    return this.#sql('DELETE FROM users WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }

  #members(groupId: string): string[] {
    return (this.#sql('SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id').all(groupId) as { user_id: string }[]).map((r) => r.user_id);
  }
  #setMembers(g: Group) {
    this.#sql('DELETE FROM group_members WHERE group_id = ?').run(g.id);
    const add = this.#sql(
      'INSERT INTO group_members (group_id, user_id) SELECT ?, id FROM users WHERE id = ? AND org_id = ?',
    );
    for (const userId of g.memberIds) add.run(g.id, userId, g.orgId);
  }
  async createGroup(g: Group) {
    this.#conflicts(() =>
      this.db.transaction(() => {
        this.#sql('INSERT INTO user_groups (id, org_id, name, description, type, visibility, rules_visible, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(g.id, g.orgId, g.name, g.description, g.type, g.visibility, g.rulesVisible ? 1 : 0, g.version, g.createdAt, g.updatedAt);
        this.#setMembers(g);
      })(),
    );
  }
  async getGroup(orgId: string, id: string) {
    const r = this.#sql('SELECT * FROM user_groups WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? toGroup(r, this.#members(id)) : null;
  }
  async listGroups(orgId: string) {
    return this.#sql('SELECT * FROM user_groups WHERE org_id = ? ORDER BY name').all(orgId).map((r: any) => toGroup(r, this.#members(r.id)));
  }
  async updateGroup(g: Group) {
    return this.db.transaction(() => {
      const changed = this.#sql('UPDATE user_groups SET name = ?, description = ?, visibility = ?, rules_visible = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ? AND version = ?')
        .run(g.name, g.description, g.visibility, g.rulesVisible ? 1 : 0, g.version, g.updatedAt, g.orgId, g.id, g.version - 1).changes > 0;
      if (changed) this.#setMembers(g);
      return changed;
    })();
  }
  async deleteGroup(orgId: string, id: string) {
    return this.#sql('DELETE FROM user_groups WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }
  async listGroupIdsOfUser(orgId: string, userId: string) {
    const rows = this.#sql('SELECT m.group_id FROM group_members m JOIN user_groups g ON g.id = m.group_id WHERE g.org_id = ? AND m.user_id = ?')
      .all(orgId, userId) as { group_id: string }[];
    return rows.map((r) => r.group_id);
  }

  async createClient(c: Client) {
    this.#conflicts(() =>
      this.#sql(`INSERT INTO clients (id, org_id, name, type, secret_hash, redirect_uris, grant_types, post_logout_redirect_uris,
          backchannel_logout_uri, allowed_origins, loopback_any_port, roles, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(c.id, c.orgId, c.name, c.type, c.secretHash, str(c.redirectUris), str(c.grantTypes), str(c.postLogoutRedirectUris),
          c.backchannelLogoutUri, str(c.allowedOrigins), c.loopbackAnyPort ? 1 : 0, str(c.roles), c.createdAt),
    );
  }
  async getClient(id: string) {
    const r = this.#sql('SELECT * FROM clients WHERE id = ?').get(id);
    return r ? toClient(r) : null;
  }
  async listClients(orgId: string) {
    return this.#sql('SELECT * FROM clients WHERE org_id = ? ORDER BY id').all(orgId).map(toClient);
  }
  async listAllClients() {
    return this.#sql('SELECT * FROM clients ORDER BY id').all().map(toClient);
  }
  async updateClient(c: Client) {
    this.#sql(`UPDATE clients SET name = ?, type = ?, secret_hash = ?, redirect_uris = ?, grant_types = ?, post_logout_redirect_uris = ?,
        backchannel_logout_uri = ?, allowed_origins = ?, loopback_any_port = ?, roles = ? WHERE org_id = ? AND id = ?`)
      .run(c.name, c.type, c.secretHash, str(c.redirectUris), str(c.grantTypes), str(c.postLogoutRedirectUris),
        c.backchannelLogoutUri, str(c.allowedOrigins), c.loopbackAnyPort ? 1 : 0, str(c.roles), c.orgId, c.id);
  }
  async deleteClient(orgId: string, id: string) {
    return this.db.transaction(() => {
      const deleted = this.#sql('DELETE FROM clients WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
      if (deleted) this.#sql("UPDATE backchannel_outbox SET status = 'cancelled' WHERE org_id = ? AND client_id = ? AND status = 'pending'").run(orgId, id);
      return deleted;
    })();
  }

  async listSigningKeys() {
    return (this.#sql('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as any[]).map(toSigningKey);
  }
  async ensureSigningKey(k: SigningKey) {
    // IMMEDIATE takes the write lock before the check: two processes opening an empty file cannot both insert.
    return this.db.transaction(() => {
      this.#sql('INSERT INTO signing_keys (kid, alg, private_jwk, created_at) SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys)')
        .run(k.kid, k.alg, k.privateJwk, k.createdAt);
      return toSigningKey(this.#sql('SELECT * FROM signing_keys ORDER BY created_at, kid LIMIT 1').get());
    }).immediate();
  }

  async createSignInSession(s: SignInSession) {
    this.#sql('INSERT INTO sign_in_sessions (id, token_hash, org_id, user_id, auth_time, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.tokenHash, s.orgId, s.userId, s.authTime, s.createdAt, s.expiresAt, s.endedAt);
  }
  async getSignInSession(id: string) {
    const r = this.#sql('SELECT * FROM sign_in_sessions WHERE id = ?').get(id);
    return r ? toSignInSession(r) : null;
  }
  async findSignInSessionByHash(tokenHash: string) {
    const r = this.#sql('SELECT * FROM sign_in_sessions WHERE token_hash = ?').get(tokenHash);
    return r ? toSignInSession(r) : null;
  }

  async saveAuthCode(c: AuthCode) {
    this.#sql(`INSERT INTO auth_codes (hash, client_id, org_id, user_id, session_id, redirect_uri, code_challenge, scope, nonce,
        created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(c.hash, c.clientId, c.orgId, c.userId, c.sessionId, c.redirectUri, c.codeChallenge, c.scope, c.nonce, c.createdAt, c.expiresAt);
  }
  async consumeAuthCode(hash: string, now: number) {
    const r = this.#sql('UPDATE auth_codes SET consumed_at = ? WHERE hash = ? AND consumed_at IS NULL AND expires_at > ? RETURNING *')
      .get(now, hash, now);
    return r ? toAuthCode(r) : null;
  }
  async countLiveAccessTokensOfSession(sessionId: string, now: number) {
    return (this.#sql('SELECT count(*) AS n FROM access_tokens WHERE session_id = ? AND revoked_at IS NULL AND expires_at > ?').get(sessionId, now) as { n: number }).n;
  }
  async purgeExpired(before: number): Promise<PurgeCounts> {
    return this.db.transaction(() => {
      const run = (sql: string) => this.#sql(sql).run({ before }).changes;
      const finished = "SELECT id FROM backchannel_outbox WHERE status <> 'pending' AND created_at < @before";
      run(`DELETE FROM backchannel_attempts WHERE outbox_id IN (${finished})`);
      run('DELETE FROM nodes WHERE lease_until < @before');
      return {
        accessTokens: run('DELETE FROM access_tokens WHERE expires_at < @before OR revoked_at < @before'),
        refreshTokens: run('DELETE FROM refresh_tokens WHERE expires_at < @before OR revoked_at < @before'),
        authCodes: run('DELETE FROM auth_codes WHERE expires_at < @before'),
        signInSessions: run('DELETE FROM sign_in_sessions WHERE expires_at < @before OR ended_at < @before'),
        backchannelDeliveries: run(`DELETE FROM backchannel_outbox WHERE id IN (${finished})`),
        clusterLog: run('DELETE FROM cluster_log WHERE at < @before'),
        channels: run('DELETE FROM channels WHERE expires_at < @before'),
      };
    })();
  }
  async findUsedAuthCode(hash: string) {
    const r = this.#sql('SELECT * FROM auth_codes WHERE hash = ? AND consumed_at IS NOT NULL').get(hash);
    return r ? toAuthCode(r) : null;
  }

  async saveAccessToken(t: AccessToken) {
    this.#sql(`INSERT INTO access_tokens (id, hash, org_id, user_id, client_id, session_id, grant_id, scope, issued_at, expires_at,
        last_activity_at, idle_deadline_at, revoked_at, revoke_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(t.id, t.hash, t.orgId, t.userId, t.clientId, t.sessionId, t.grantId, t.scope, t.issuedAt, t.expiresAt,
        t.lastActivityAt, t.idleDeadlineAt ?? null, t.revokedAt, t.revokeReason);
  }
  async findAccessTokenByHash(hash: string) {
    const r = this.#sql('SELECT * FROM access_tokens WHERE hash = ?').get(hash);
    return r ? toAccessToken(r) : null;
  }

  async liveAccessTokensOfUser(orgId: string, userId: string, now: number, limit: number) {
    return this.#sql(`SELECT * FROM access_tokens WHERE user_id = ? AND org_id = ? AND revoked_at IS NULL AND expires_at > ?
        ORDER BY issued_at, id LIMIT ?`).all(userId, orgId, now, limit).map(toAccessToken);
  }

  async dueIdleTokens(now: number, limit: number) {
    return this.#sql(`SELECT * FROM access_tokens WHERE revoked_at IS NULL AND expires_at > ? AND idle_deadline_at <= ?
        ORDER BY idle_deadline_at, id LIMIT ?`).all(now, now, limit).map(toAccessToken);
  }

  async expireIdleTokens(batch: IdleExpiry[], now: number): Promise<IdleExpired[]> {
    // The guard: a deadline moved later meanwhile (activity flushed by any node), or lifted (exempt), keeps the token.
    const revokeAccess = this.#sql(`UPDATE access_tokens SET revoked_at = @now, revoke_reason = 'idle_timeout'
        WHERE id = @id AND revoked_at IS NULL AND idle_deadline_at <= @now RETURNING hash, org_id, user_id, client_id, session_id, grant_id`);
    const revokeRefresh = this.#sql('UPDATE refresh_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL');
    const endSessionLeftIdle = this.#sql(`UPDATE sign_in_sessions SET ended_at = @now WHERE id = @id AND ended_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM access_tokens WHERE session_id = @id AND ${LIVE})`);
    const userHasLiveToken = this.#sql(`SELECT EXISTS (SELECT 1 FROM access_tokens WHERE org_id = @orgId AND user_id = @userId AND ${LIVE}) AS live`);
    return this.db.transaction(() => {
      // Every token of the sweep ends first: what is left live is decided after all of them.
      const ended = batch.flatMap((e) => {
        const row = revokeAccess.get({ now, id: e.token.id }) as any;
        return row ? [{ e, row }] : [];
      });
      const setOffline = new Set<string>(); // a user left with several of these tokens goes Offline once
      return ended.map(({ e, row }): IdleExpired => {
        this.#logEnded(row.hash, now, 'idle_timeout');
        revokeRefresh.run(now, row.grant_id);
        const sessionEnded = row.session_id != null && endSessionLeftIdle.run({ now, id: row.session_id }).changes > 0;
        const userOffline = row.user_id != null && !(userHasLiveToken.get({ now, orgId: row.org_id, userId: row.user_id }) as { live: number }).live;
        if (userOffline && !setOffline.has(row.user_id)) {
          setOffline.add(row.user_id);
          this.#setOffline(row.org_id, row.user_id, now);
        }
        this.#insertAudit({
          orgId: row.org_id, at: now, kind: 'idle_timeout', userId: row.user_id, clientId: row.client_id,
          details: {
            accessTokenId: e.token.id, deadline: new Date(e.deadline).toISOString(), noticedAt: new Date(now).toISOString(),
            latenessMs: now - e.deadline, signInSessionEnded: sessionEnded, userSetOffline: userOffline,
          },
        });
        return { id: e.token.id, sessionEnded, userOffline };
      });
    }).immediate();
  }

  #setOffline(orgId: string, userId: string, now: number) {
    this.#sql(`INSERT INTO user_status (user_id, org_id, presence, presence_at, routing_status, routing_at) VALUES (?, ?, 'Offline', ?, 'OFF_QUEUE', ?)
        ON CONFLICT (user_id) DO UPDATE SET presence = 'Offline', presence_at = excluded.presence_at, routing_status = 'OFF_QUEUE', routing_at = excluded.routing_at`)
      .run(userId, orgId, now, now);
  }

  async getUserStatus(orgId: string, userId: string) {
    const r = this.#sql('SELECT * FROM user_status WHERE org_id = ? AND user_id = ?').get(orgId, userId) as any;
    return r ? { userId: r.user_id, orgId: r.org_id, presence: r.presence, presenceAt: r.presence_at, routingStatus: r.routing_status, routingAt: r.routing_at } : null;
  }
  async saveUserStatus(s: UserStatus) {
    this.#sql(`INSERT INTO user_status (user_id, org_id, presence, presence_at, routing_status, routing_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence, presence_at = excluded.presence_at,
          routing_status = excluded.routing_status, routing_at = excluded.routing_at`)
      .run(s.userId, s.orgId, s.presence, s.presenceAt, s.routingStatus, s.routingAt);
  }

  async saveInteraction(i: Interaction) {
    this.#sql(`INSERT INTO interactions (user_id, id, org_id, type, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id, id) DO UPDATE SET type = excluded.type, state = excluded.state, updated_at = excluded.updated_at`)
      .run(i.userId, i.id, i.orgId, i.type, i.state, i.updatedAt);
  }
  async deleteInteraction(userId: string, id: string) {
    return this.#sql('DELETE FROM interactions WHERE user_id = ? AND id = ?').run(userId, id).changes > 0;
  }
  async listInteractions(userId?: string) {
    const rows = userId == null ? this.#sql('SELECT * FROM interactions').all() : this.#sql('SELECT * FROM interactions WHERE user_id = ?').all(userId);
    return (rows as any[]).map((r): Interaction => ({
      userId: r.user_id, id: r.id, orgId: r.org_id, type: r.type, state: r.state, updatedAt: r.updated_at,
    }));
  }

  async recordActivity(batch: ActivityUpdate[]) {
    // A node's older view (its last activity behind the stored one) moves nothing: the deadline follows the latest activity.
    const update = this.#sql(`UPDATE access_tokens SET last_activity_at = @at, idle_deadline_at = @deadline
        WHERE id = @id AND revoked_at IS NULL AND last_activity_at <= @at`);
    this.db.transaction(() => {
      for (const b of batch) update.run({ at: b.lastActivityAt, deadline: b.idleDeadlineAt, id: b.id });
    })();
  }

  async lastLogSeq() {
    return (this.#sql('SELECT coalesce(max(seq), 0) AS seq FROM cluster_log').get() as { seq: number }).seq;
  }
  async logAfter(seq: number, limit: number) {
    return this.#sql('SELECT * FROM cluster_log WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit).map(toClusterLogEntry);
  }
  async appendChange(change: ClusterChange, at: number) {
    const userId = change.kind === 'user_changed' ? change.userId : null;
    return Number(this.#sql('INSERT INTO cluster_log (at, kind, org_id, user_id) VALUES (?, ?, ?, ?)').run(at, change.kind, change.orgId, userId).lastInsertRowid);
  }
  /** Appends one token_ended entry; returns its seq. */
  #logEnded(hash: string, at: number, reason: RevokeReason): number {
    return Number(this.#sql("INSERT INTO cluster_log (at, kind, token_hash, reason) VALUES (?, 'token_ended', ?, ?)").run(at, hash, reason).lastInsertRowid);
  }

  async renewNodeLease(n: NodeLease) {
    this.#sql(`INSERT INTO nodes (node_id, lease_until, applied_seq) VALUES (?, ?, ?)
        ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until, applied_seq = max(applied_seq, excluded.applied_seq)`)
      .run(n.nodeId, n.leaseUntil, n.appliedSeq);
  }
  async listNodeLeases() {
    return this.#sql('SELECT * FROM nodes ORDER BY node_id').all().map(toNodeLease);
  }
  async releaseNodeLease(nodeId: string) {
    this.#sql('DELETE FROM nodes WHERE node_id = ?').run(nodeId);
  }

  async saveChannel(c: ChannelRecord) {
    this.#sql(`INSERT INTO channels (id, org_id, user_id, token_id, token_hash, topics, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, user_id = excluded.user_id, token_id = excluded.token_id,
          token_hash = excluded.token_hash, topics = excluded.topics, created_at = excluded.created_at, expires_at = excluded.expires_at`)
      .run(c.id, c.orgId, c.userId, c.tokenId, c.tokenHash, str(c.topics), c.createdAt, c.expiresAt);
  }
  async getChannel(id: string) {
    const r = this.#sql('SELECT * FROM channels WHERE id = ?').get(id);
    return r ? toChannel(r) : null;
  }
  async setChannelTopics(id: string, topics: string[]) {
    return this.#sql('UPDATE channels SET topics = ? WHERE id = ?').run(str(topics), id).changes > 0;
  }
  async deleteChannel(id: string) {
    return this.#sql('DELETE FROM channels WHERE id = ?').run(id).changes > 0;
  }

  async saveRefreshToken(t: RefreshToken) {
    this.#insertRefreshToken(t);
  }
  #insertRefreshToken(t: RefreshToken) {
    this.#sql(`INSERT INTO refresh_tokens (id, hash, grant_id, org_id, user_id, client_id, session_id, scope, issued_at, expires_at,
        rotated_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(t.id, t.hash, t.grantId, t.orgId, t.userId, t.clientId, t.sessionId, t.scope, t.issuedAt, t.expiresAt, t.rotatedAt, t.revokedAt);
  }
  async findRefreshTokenByHash(hash: string) {
    const r = this.#sql('SELECT * FROM refresh_tokens WHERE hash = ?').get(hash);
    return r ? toRefreshToken(r) : null;
  }
  async rotateRefreshToken(previousId: string, next: RefreshToken, now: number) {
    return this.db.transaction(() => {
      const marked = this.#sql('UPDATE refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL')
        .run(now, previousId).changes;
      if (!marked) return false;
      this.#insertRefreshToken(next);
      return true;
    })();
  }

  async revoke(
    selection: RevokeSelection, now: number, reason: RevokeReason,
    extras?: (revoked: Omit<RevokedSet, 'logSeq'>, clientSessions: () => ClientSession[]) => RevokeExtras,
  ): Promise<RevokedSet> {
    const where = revokeWhere(selection);
    return this.db.transaction((): RevokedSet => {
      const accessTokens = this.#sql(`UPDATE access_tokens SET revoked_at = ?, revoke_reason = ? WHERE revoked_at IS NULL AND ${where.access[0]}
          RETURNING id, hash, org_id, user_id, client_id, session_id, grant_id`)
        .all(now, reason, ...where.access[1])
        .map((r: any) => ({ id: r.id, hash: r.hash, orgId: r.org_id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id, grantId: r.grant_id }));
      const ids = (table: string, column: string, clause?: Clause) =>
        clause
          ? (this.#sql(`UPDATE ${table} SET ${column} = ? WHERE ${column} IS NULL AND ${clause[0]} RETURNING id`).all(now, ...clause[1]) as { id: string }[]).map((r) => r.id)
          : [];
      let logSeq = 0;
      for (const t of accessTokens) logSeq = this.#logEnded(t.hash, now, reason);
      const revoked: RevokedSet = {
        accessTokens,
        refreshTokenIds: ids('refresh_tokens', 'revoked_at', where.refresh),
        signInSessionIds: ids('sign_in_sessions', 'ended_at', where.sessions),
        logSeq,
      };
      if (extras) this.#applyExtras(extras(revoked, () => this.#clientSessions(revoked)), now);
      return revoked;
    })();
  }

  /** See Store.revoke: the (client, session) pairs of the revoked tokens and of every token issued through an ended sign-in session. */
  #clientSessions(revoked: RevokedSet): ClientSession[] {
    const pairs = new Map<string, ClientSession>();
    const add = (clientId: string, sessionId: string | null) => pairs.set(str([clientId, sessionId]), { clientId, sessionId });
    for (const t of revoked.accessTokens) add(t.clientId, t.sessionId);
    const rows = this.#sql(`SELECT DISTINCT client_id, session_id FROM refresh_tokens WHERE id IN (SELECT value FROM json_each(?))
        UNION SELECT DISTINCT client_id, session_id FROM access_tokens WHERE session_id IN (SELECT value FROM json_each(?))`)
      .all(str(revoked.refreshTokenIds), str(revoked.signInSessionIds)) as { client_id: string; session_id: string | null }[];
    for (const r of rows) add(r.client_id, r.session_id);
    return [...pairs.values()];
  }

  #applyExtras(x: RevokeExtras, now: number) {
    if (x.audit) this.#insertAudit(x.audit);
    if (x.setUserOffline) this.#setOffline(x.setUserOffline.orgId, x.setUserOffline.userId, now);
    const insert = this.#sql(`INSERT INTO backchannel_outbox (id, org_id, client_id, uri, user_id, session_id, reason, created_at,
      next_attempt_at, attempts, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const o of x.outbox ?? []) {
      insert.run(o.id, o.orgId, o.clientId, o.uri, o.userId, o.sessionId, o.reason, o.createdAt, o.nextAttemptAt, o.attempts, o.status);
    }
  }

  #insertAudit(e: Omit<AuditEntry, 'id'>) {
    this.#sql('INSERT INTO audit_log (org_id, at, kind, user_id, client_id, details) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.orgId, e.at, e.kind, e.userId, e.clientId, str(e.details));
  }

  async claimBackchannelLogouts(now: number, limit: number, claimUntil: number, except: { uris?: readonly string[] } = {}) {
    return this.db.transaction(() => {
      const rows = this.#sql(`SELECT * FROM backchannel_outbox WHERE status = 'pending' AND next_attempt_at <= ?
          AND (claimed_until IS NULL OR claimed_until <= ?) AND uri NOT IN (SELECT value FROM json_each(?))
          ORDER BY next_attempt_at, id LIMIT ?`)
        .all(now, now, str(except.uris ?? []), limit) as any[];
      const claim = this.#sql('UPDATE backchannel_outbox SET claimed_until = ? WHERE id = ?');
      for (const r of rows) claim.run(claimUntil, r.id);
      return rows.map(toBackchannelLogout);
    }).immediate();
  }

  async recordBackchannelAttempt(id: string, at: number, a: BackchannelAttempt) {
    this.db.transaction(() => {
      const row = this.#sql('SELECT org_id, client_id, user_id, attempts, status FROM backchannel_outbox WHERE id = ?').get(id) as any;
      if (!row) return;
      // Cancelled (its client deleted) while this attempt was in flight: it stays cancelled.
      const pending = row.status === 'pending';
      if (!pending) a = { ...a, outcome: a.outcome === 'retry' ? 'failed' : a.outcome, nextAttemptAt: null };
      const status = !pending ? row.status : a.outcome === 'retry' ? 'pending' : a.outcome;
      this.#sql('UPDATE backchannel_outbox SET attempts = attempts + 1, status = ?, next_attempt_at = coalesce(?, next_attempt_at), claimed_until = NULL WHERE id = ?')
        .run(status, a.nextAttemptAt, id);
      this.#sql('INSERT INTO backchannel_attempts (outbox_id, at, outcome, status_code, error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, at, a.outcome, a.statusCode, a.error, a.nextAttemptAt);
      this.#insertAudit({
        orgId: row.org_id, at, kind: 'backchannel_logout', userId: row.user_id, clientId: row.client_id,
        details: { jti: id, attempt: row.attempts + 1, outcome: a.outcome, result: a.result, statusCode: a.statusCode, error: a.error,
          nextAttemptAt: a.nextAttemptAt == null ? null : new Date(a.nextAttemptAt).toISOString() },
      });
    }).immediate();
  }


  async backchannelOutboxStats(): Promise<OutboxStats> {
    const r = this.#sql("SELECT count(*) AS n, min(created_at) AS oldest FROM backchannel_outbox WHERE status = 'pending'").get() as { n: number; oldest: number | null };
    return { pending: r.n, oldestCreatedAt: r.oldest };
  }

  async appendAudit(e: Omit<AuditEntry, 'id'>) {
    this.#insertAudit(e);
  }
  async listAudit(orgId: string, f: AuditFilter) {
    const clauses = ['org_id = ?'];
    const args: unknown[] = [orgId];
    if (f.userId) clauses.push('user_id = ?'), args.push(f.userId);
    if (f.kind) clauses.push('kind = ?'), args.push(f.kind);
    if (f.from != null) clauses.push('at >= ?'), args.push(f.from);
    if (f.to != null) clauses.push('at <= ?'), args.push(f.to);
    const where = clauses.join(' AND ');
    const { n } = this.#sql(`SELECT count(*) AS n FROM audit_log WHERE ${where}`).get(...args) as { n: number };
    const entries = this.#sql(`SELECT * FROM audit_log WHERE ${where} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...args, f.limit ?? 100, f.offset ?? 0).map(toAudit);
    return { entries, total: n };
  }
}

type Clause = [sql: string, args: unknown[]];

/** An access token still usable at `@now`: not revoked, not expired, not past a stored idle deadline. */
const LIVE = 'revoked_at IS NULL AND expires_at > @now AND (idle_deadline_at IS NULL OR idle_deadline_at > @now)';

/** SQL conditions per selection, for access tokens, refresh tokens and sign-in sessions. */
function revokeWhere(s: RevokeSelection): { access: Clause; refresh?: Clause; sessions?: Clause } {
  if ('accessTokenId' in s) return { access: ['id = ?', [s.accessTokenId]] };
  if ('grantId' in s) return { access: ['grant_id = ?', [s.grantId]], refresh: ['grant_id = ?', [s.grantId]] };
  if ('signInSessionId' in s) {
    const ofClient: Clause = ['session_id = ? AND client_id = ?', [s.signInSessionId, s.clientId]];
    return { access: ofClient, refresh: ofClient, sessions: ['id = ?', [s.signInSessionId]] };
  }
  if ('clientId' in s) return { access: ['client_id = ?', [s.clientId]], refresh: ['client_id = ?', [s.clientId]] };
  const ofUser: Clause = ['user_id = ?', [s.userId]];
  return { access: ofUser, refresh: ofUser, sessions: ofUser };
}

/**
 * The database holds the signing key: a new data directory is the owner's only (0700) and the
 * files are 0600 (SQLite gives its -wal and -shm files the database file's mode).
 */
function keepPrivate(file: string) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}
