import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_ORG_SETTINGS } from '../src/store/records.ts';
import { migrate, MIGRATIONS } from '../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { runStoreConformance } from './store-conformance.ts';

runStoreConformance('SqliteStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-store-'));
  const store = new SqliteStore(join(dir, 'lockstep.sqlite'));
  return {
    store,
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
        id: 'kept-user', orgId: 'kept', email: 'kept@example.test', name: 'Kept', passwordHash: null, roles: ['admin'], createdAt: 1, updatedAt: 1,
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
});
