import type pg from 'pg';

/**
 * The SQLite store's schema in PostgreSQL types: BIGINT milliseconds, JSONB for JSON, BOOLEAN flags.
 * Append only once released: a released migration is never edited, a change is a new version.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'orgs, users, groups, clients, signing keys',
    sql: `
      CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, settings JSONB NOT NULL, created_at BIGINT NOT NULL);
      CREATE TABLE users (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), email TEXT NOT NULL, name TEXT NOT NULL,
        password_hash TEXT, roles JSONB NOT NULL, version INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
      -- Sign-in names are unique whatever their case, across orgs; findUserByEmail looks them up the same way.
      CREATE UNIQUE INDEX users_email ON users (lower(email));
      CREATE INDEX users_org ON users (org_id);
      CREATE TABLE user_groups (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, description TEXT NOT NULL,
        type TEXT NOT NULL, visibility TEXT NOT NULL, rules_visible BOOLEAN NOT NULL, version INTEGER NOT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
      CREATE INDEX user_groups_org ON user_groups (org_id);
      CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id));
      CREATE INDEX group_members_user ON group_members (user_id);
      CREATE TABLE clients (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, type TEXT NOT NULL, secret_hash TEXT,
        redirect_uris JSONB NOT NULL, grant_types JSONB NOT NULL, post_logout_redirect_uris JSONB NOT NULL,
        backchannel_logout_uri TEXT, allowed_origins JSONB NOT NULL, loopback_any_port BOOLEAN NOT NULL, roles JSONB NOT NULL,
        created_at BIGINT NOT NULL);
      CREATE INDEX clients_org ON clients (org_id);
      CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, alg TEXT NOT NULL, private_jwk TEXT NOT NULL, created_at BIGINT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'sign-in sessions, authorization codes, access and refresh tokens',
    sql: `
      CREATE TABLE sign_in_sessions (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
        auth_time BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ended_at BIGINT);
      CREATE INDEX sign_in_sessions_user ON sign_in_sessions (user_id) WHERE ended_at IS NULL;
      CREATE TABLE auth_codes (
        hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, org_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
        redirect_uri TEXT NOT NULL, code_challenge TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT,
        created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, consumed_at BIGINT);
      CREATE TABLE access_tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, user_id TEXT, client_id TEXT NOT NULL,
        session_id TEXT, grant_id TEXT NOT NULL, scope TEXT NOT NULL, issued_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
        last_activity_at BIGINT NOT NULL, idle_deadline_at BIGINT, revoked_at BIGINT, revoke_reason TEXT);
      CREATE INDEX access_tokens_live ON access_tokens (expires_at) WHERE revoked_at IS NULL;
      CREATE INDEX access_tokens_idle_deadline ON access_tokens (idle_deadline_at) WHERE revoked_at IS NULL AND idle_deadline_at IS NOT NULL;
      CREATE INDEX access_tokens_user ON access_tokens (user_id) WHERE revoked_at IS NULL;
      CREATE INDEX access_tokens_client ON access_tokens (client_id) WHERE revoked_at IS NULL;
      CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
      CREATE INDEX access_tokens_session ON access_tokens (session_id);
      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, grant_id TEXT NOT NULL, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
        client_id TEXT NOT NULL, session_id TEXT NOT NULL, scope TEXT NOT NULL, issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL, rotated_at BIGINT, revoked_at BIGINT);
      CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
      CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
      CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id) WHERE revoked_at IS NULL;
      CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 3,
    name: 'idle timeout: interactions and user status',
    sql: `
      CREATE TABLE interactions (
        user_id TEXT NOT NULL, id TEXT NOT NULL, org_id TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
        updated_at BIGINT NOT NULL, PRIMARY KEY (user_id, id));
      CREATE TABLE user_status (
        user_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, presence TEXT NOT NULL, presence_at BIGINT NOT NULL,
        routing_status TEXT NOT NULL, routing_at BIGINT NOT NULL);
    `,
  },
  {
    version: 4,
    name: 'back-channel logout outbox, each due row claimed by one process at a time',
    sql: `
      CREATE TABLE backchannel_outbox (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, client_id TEXT NOT NULL, uri TEXT NOT NULL, user_id TEXT NOT NULL,
        session_id TEXT, reason TEXT NOT NULL, created_at BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL, status TEXT NOT NULL,
        claimed_until BIGINT);
      CREATE INDEX backchannel_outbox_due ON backchannel_outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX backchannel_outbox_client ON backchannel_outbox (client_id) WHERE status = 'pending';
      CREATE TABLE backchannel_attempts (
        outbox_id TEXT NOT NULL REFERENCES backchannel_outbox(id), at BIGINT NOT NULL, outcome TEXT NOT NULL,
        status_code INTEGER, error TEXT, next_attempt_at BIGINT);
      CREATE INDEX backchannel_attempts_outbox ON backchannel_attempts (outbox_id);
    `,
  },
  {
    version: 5,
    name: 'audit log',
    sql: `
      CREATE TABLE audit_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, org_id TEXT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
        user_id TEXT, client_id TEXT, details JSONB NOT NULL);
      CREATE INDEX audit_log_org_at ON audit_log (org_id, at, id);
    `,
  },
  {
    version: 6,
    name: 'a cluster of nodes: the cluster log (ended tokens and changes), node leases, shared channels',
    sql: `
      -- Appends hold an advisory lock shared and may commit out of order; readers handle the gaps (CLUSTER_LOG_LOCK in postgres-store.ts).
      CREATE TABLE cluster_log (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, kind TEXT NOT NULL,
        token_hash TEXT, reason TEXT, org_id TEXT, user_id TEXT);
      CREATE INDEX cluster_log_at ON cluster_log (at);
      CREATE TABLE nodes (node_id TEXT PRIMARY KEY, lease_until BIGINT NOT NULL, applied_seq BIGINT NOT NULL);
      CREATE TABLE channels (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT, token_id TEXT NOT NULL, token_hash TEXT NOT NULL,
        topics JSONB NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
      CREATE INDEX channels_expires ON channels (expires_at);
    `,
  },
];

/** Any fixed number; every Lockstep process migrating this database waits on the same one. */
const MIGRATION_LOCK = 0x4c6f_636b_5374;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction, and
 * returns their versions. A session-level advisory lock held on one connection around the check and
 * the apply makes processes that start together on an empty database take turns: the first applies,
 * the others find it done.
 */
export async function migrate(pool: pg.Pool, log?: (msg: string) => void): Promise<number[]> {
  const db = await pool.connect();
  try {
    await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ran = await applyPending(db, log);
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    db.release();
    return ran;
  } catch (err) {
    // Discarding the connection ends its session, and the lock with it, even when unlocking would fail too.
    db.release(err as Error);
    throw err;
  }
}

async function applyPending(db: pg.PoolClient, log?: (msg: string) => void): Promise<number[]> {
  await db.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((r) => r.version));
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    try {
      await db.query('BEGIN');
      await db.query(m.sql);
      await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined); // the migration's own error is the one to report
      throw err;
    }
    log?.(`postgres: applied migration ${m.version} (${m.name})`);
    ran.push(m.version);
  }
  return ran;
}
