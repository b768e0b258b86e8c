import type { Database } from 'better-sqlite3';

/** Append only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
      CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, settings TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE users (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL, password_hash TEXT, roles TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX users_org ON users(org_id);
      CREATE TABLE user_groups (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, description TEXT NOT NULL,
        created_at INTEGER NOT NULL);
      CREATE INDEX user_groups_org ON user_groups(org_id);
      CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (group_id, user_id));
      CREATE INDEX group_members_user ON group_members(user_id);
      CREATE TABLE clients (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, type TEXT NOT NULL,
        secret_hash TEXT, redirect_uris TEXT NOT NULL, grant_types TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL,
        backchannel_logout_uri TEXT, roles TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX clients_org ON clients(org_id);
      CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, alg TEXT NOT NULL, private_jwk TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE sign_in_sessions (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
        auth_time INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ended_at INTEGER);
      CREATE INDEX sign_in_sessions_user ON sign_in_sessions(user_id) WHERE ended_at IS NULL;
      CREATE TABLE auth_codes (
        hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
        session_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT NOT NULL, scope TEXT NOT NULL,
        nonce TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, consumed_at INTEGER);
      CREATE TABLE access_tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, user_id TEXT, client_id TEXT NOT NULL,
        session_id TEXT, grant_id TEXT NOT NULL, scope TEXT NOT NULL, issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, last_activity_at INTEGER NOT NULL, revoked_at INTEGER, revoke_reason TEXT);
      CREATE INDEX access_tokens_user ON access_tokens(user_id) WHERE revoked_at IS NULL;
      CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
      CREATE INDEX access_tokens_session ON access_tokens(session_id);
      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, grant_id TEXT NOT NULL, org_id TEXT NOT NULL,
        user_id TEXT NOT NULL, client_id TEXT NOT NULL, session_id TEXT NOT NULL, scope TEXT NOT NULL,
        issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, rotated_at INTEGER, revoked_at INTEGER);
      CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
      CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id) WHERE revoked_at IS NULL;
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
        user_id TEXT, client_id TEXT, details TEXT NOT NULL);
      CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
    `,
  },
  {
    version: 2,
    name: 'idle timeout: interactions and user status',
    sql: `
      CREATE TABLE interactions (
        user_id TEXT NOT NULL, id TEXT NOT NULL, org_id TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
        updated_at INTEGER NOT NULL, PRIMARY KEY (user_id, id));
      CREATE TABLE user_status (
        user_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, presence TEXT NOT NULL, presence_at INTEGER NOT NULL,
        routing_status TEXT NOT NULL, routing_at INTEGER NOT NULL);
      CREATE INDEX access_tokens_live ON access_tokens(expires_at) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 3,
    name: 'back-channel logout outbox',
    sql: `
      CREATE TABLE backchannel_outbox (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, client_id TEXT NOT NULL, uri TEXT NOT NULL, user_id TEXT NOT NULL,
        session_id TEXT, reason TEXT NOT NULL, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL, status TEXT NOT NULL);
      CREATE INDEX backchannel_outbox_due ON backchannel_outbox(next_attempt_at) WHERE status = 'pending';
      CREATE TABLE backchannel_attempts (
        outbox_id TEXT NOT NULL REFERENCES backchannel_outbox(id), at INTEGER NOT NULL, outcome TEXT NOT NULL,
        status_code INTEGER, error TEXT, next_attempt_at INTEGER);
      CREATE INDEX backchannel_attempts_outbox ON backchannel_attempts(outbox_id);
    `,
  },
  {
    version: 4,
    name: 'allowed web origins per client (CORS)',
    sql: `ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';`,
  },
  {
    version: 5,
    name: 'Genesys Cloud model names: org settings, versions, group fields',
    sql: `
      UPDATE orgs SET settings = json_object(
        'universalLogout', json(CASE WHEN settings ->> '$.universalLogoutEnabled' THEN 'true' ELSE 'false' END),
        'inactivityTimeoutExclusions', json(coalesce(settings -> '$.idle.excludedPaths', '[]')),
        'hipaa', json(CASE WHEN settings ->> '$.hipaaEnabled' THEN 'true' ELSE 'false' END),
        'idle', json_set(json_remove(settings -> '$.idle', '$.excludedPaths'), '$.inactivityTimeoutUnit', 'MINUTES'));
      ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE user_groups ADD COLUMN type TEXT NOT NULL DEFAULT 'official';
      ALTER TABLE user_groups ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
      ALTER TABLE user_groups ADD COLUMN rules_visible INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE user_groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE user_groups ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
      UPDATE user_groups SET updated_at = created_at;
    `,
  },
  {
    version: 6,
    name: 'loopback redirect on any port: a per-client choice (native apps)',
    sql: `ALTER TABLE clients ADD COLUMN loopback_any_port INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 7,
    name: 'the store is the truth: persisted idle deadlines, a revocation log with sequence numbers',
    sql: `
      ALTER TABLE access_tokens ADD COLUMN idle_deadline_at INTEGER;
      CREATE INDEX access_tokens_idle_deadline ON access_tokens (idle_deadline_at) WHERE revoked_at IS NULL AND idle_deadline_at IS NOT NULL;
      CREATE TABLE revocation_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX revocation_log_at ON revocation_log (at);
    `,
  },
  {
    version: 8,
    name: 'a cluster of nodes: the cluster log (ended tokens and changes), node leases, shared channels, claimed outbox rows',
    sql: `
      CREATE TABLE cluster_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        token_hash TEXT,
        reason TEXT,
        org_id TEXT,
        user_id TEXT
      );
      INSERT INTO cluster_log (seq, at, kind, token_hash, reason)
        SELECT seq, at, 'token_ended', token_hash, reason FROM revocation_log ORDER BY seq;
      -- Numbering goes on where the revocation log stopped, even when its newest entries were purged: a node
      -- that applied up to seq N must never see a new entry numbered N or lower.
      INSERT INTO sqlite_sequence (name, seq) SELECT 'cluster_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'cluster_log');
      UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'revocation_log'), 0))
        WHERE name = 'cluster_log';
      DROP TABLE revocation_log;
      CREATE INDEX cluster_log_at ON cluster_log (at);
      CREATE TABLE nodes (node_id TEXT PRIMARY KEY, lease_until INTEGER NOT NULL, applied_seq INTEGER NOT NULL);
      CREATE TABLE channels (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT, token_id TEXT NOT NULL, token_hash TEXT NOT NULL,
        topics TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX channels_expires ON channels (expires_at);
      ALTER TABLE backchannel_outbox ADD COLUMN claimed_until INTEGER;
    `,
  },
];

export function migrate(db: Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    ran.push(m.version);
  }
  return ran;
}
