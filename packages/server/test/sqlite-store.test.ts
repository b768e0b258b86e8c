import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DEFAULT_ORG_SETTINGS } from '../src/core/records.ts';
import { migrate, MIGRATIONS } from '../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { runStoreConformance } from './store-conformance.ts';

runStoreConformance('SqliteStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-store-'));
  const file = join(dir, 'lockstep.sqlite');
  const store = new SqliteStore(file);
  return {
    store,
    anotherNode: async () => new SqliteStore(file),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore migrations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-migrations-'));
  const file = join(dir, 'lockstep.sqlite');
  after(() => rmSync(dir, { recursive: true, force: true }));

  type MigrationRow = { version: number; name: string; applied_at: number };
  const applied = (store: SqliteStore) =>
    store.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as MigrationRow[];

  test('the list of migrations is append-only: versions strictly increase from 1', () => {
    assert.ok(MIGRATIONS.length >= 1);
    MIGRATIONS.forEach((m, i) => {
      assert.equal(m.version, i + 1, `migration #${i} has version ${i + 1}`);
      assert.ok(m.name.length > 0);
    });
  });

  test('a new file gets every migration, recorded by version in schema_migrations', async () => {
    const store = new SqliteStore(file);
    try {
      const rows = applied(store);
      assert.deepEqual(rows.map((r) => [r.version, r.name]), MIGRATIONS.map((m) => [m.version, m.name]));
      assert.ok(rows.every((r) => Number.isInteger(r.applied_at) && r.applied_at > 0));
      assert.deepEqual(migrate(store.db), [], 'migrating an up-to-date database runs nothing');
      await store.createOrg({ id: 'kept', name: 'Kept Org', createdAt: 1 }, DEFAULT_ORG_SETTINGS);
      await store.createUser({
        id: 'kept-user', orgId: 'kept', email: 'kept@example.test', name: 'Kept', passwordHash: null, roles: ['admin'], version: 1, createdAt: 1, updatedAt: 1,
      });
    } finally {
      await store.close();
    }
  });

  test('reopening the same file runs no migration again and keeps the data', async () => {
    const before = (() => {
      const s = new SqliteStore(file);
      try {
        return applied(s);
      } finally {
        void s.close();
      }
    })();
    await new Promise((r) => setTimeout(r, 5)); // a re-run would record a later applied_at
    const store = new SqliteStore(file);
    try {
      assert.deepEqual(applied(store), before, 'schema_migrations is unchanged: nothing ran again');
      assert.equal(applied(store).length, MIGRATIONS.length);
      assert.deepEqual(migrate(store.db), []);
      assert.deepEqual(await store.getOrg('kept'), { id: 'kept', name: 'Kept Org', createdAt: 1 });
      assert.equal((await store.findUserByEmail('KEPT@example.test'))!.id, 'kept-user');
      assert.equal(await store.countOrgs(), 1);
    } finally {
      await store.close();
    }
  });

  test('version 5 renames the settings of orgs saved before it to the Genesys Cloud names, and gives groups their new fields', async () => {
    const oldFile = join(dir, 'before-v5.sqlite');
    const db = new Database(oldFile);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version < 5)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 1)').run(m.version, m.name);
    }
    const saved = {
      universalLogoutEnabled: true, hipaaEnabled: true,
      idle: {
        enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 600, inactivityTimeoutGroupsEnabled: true,
        inactivityTimeoutGroupBundles: [{ priority: 1, timeoutSeconds: 300, groups: ['g1'] }], excludedPaths: ['/api/v2/poll/*'],
      },
    };
    db.prepare('INSERT INTO orgs VALUES (?, ?, ?, 1)').run('old', 'Old Org', JSON.stringify(saved));
    db.prepare('INSERT INTO orgs VALUES (?, ?, ?, 1)').run('plain', 'Plain Org', JSON.stringify({ ...saved, universalLogoutEnabled: false, hipaaEnabled: false }));
    db.prepare("INSERT INTO user_groups VALUES ('g1', 'old', 'Night shift', '', 7)").run();
    db.close();

    const store = new SqliteStore(oldFile);
    try {
      assert.deepEqual(await store.getOrgSettings('old'), {
        universalLogout: true, inactivityTimeoutExclusions: ['/api/v2/poll/*'], hipaa: true,
        idle: {
          enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 600, inactivityTimeoutUnit: 'MINUTES', inactivityTimeoutGroupsEnabled: true,
          inactivityTimeoutGroupBundles: [{ priority: 1, timeoutSeconds: 300, groups: ['g1'] }],
        },
      });
      const plain = (await store.getOrgSettings('plain'))!;
      assert.equal(plain.universalLogout, false);
      assert.equal(plain.hipaa, false);
      assert.deepEqual(await store.getGroup('old', 'g1'), {
        id: 'g1', orgId: 'old', name: 'Night shift', description: '', type: 'official', visibility: 'public', rulesVisible: false,
        memberIds: [], version: 1, createdAt: 7, updatedAt: 7,
      });
    } finally {
      await store.close();
    }
  });

  test('version 8 turns the revocation log into the cluster log: entries kept as token_ended, numbering goes on past purged ones', async () => {
    const oldFile = join(dir, 'before-v8.sqlite');
    const db = new Database(oldFile);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version < 8)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 1)').run(m.version, m.name);
    }
    const log = db.prepare('INSERT INTO revocation_log (token_hash, at, reason) VALUES (?, ?, ?)');
    for (let i = 1; i <= 5; i++) log.run(`hash-${i}`, 1000 + i, i % 2 ? 'logout' : 'idle_timeout');
    db.prepare('DELETE FROM revocation_log WHERE seq IN (1, 5)').run(); // purged, the newest included
    db.prepare(`INSERT INTO backchannel_outbox VALUES ('jti-1', 'o', 'c', 'https://rp.example.test/bcl', 'u', NULL, 'logout', 1, 1, 0, 'pending')`).run();
    db.close();

    const store = new SqliteStore(oldFile);
    try {
      assert.equal(await store.lastLogSeq(), 4);
      assert.deepEqual(await store.logAfter(0, 10), [
        { seq: 2, at: 1002, kind: 'token_ended', tokenHash: 'hash-2', reason: 'idle_timeout' },
        { seq: 3, at: 1003, kind: 'token_ended', tokenHash: 'hash-3', reason: 'logout' },
        { seq: 4, at: 1004, kind: 'token_ended', tokenHash: 'hash-4', reason: 'idle_timeout' },
      ]);
      assert.equal(await store.appendChange({ kind: 'org_changed', orgId: 'o' }, 2000), 6, 'seq 5 was handed out before: never again');
      assert.deepEqual((await store.claimBackchannelLogouts(1, 10, 2)).map((o) => o.id), ['jti-1'], 'outbox rows come through unclaimed');
      const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'revocation_log'").all();
      assert.deepEqual(tables, [], 'the revocation log is gone');
    } finally {
      await store.close();
    }
  });
});
