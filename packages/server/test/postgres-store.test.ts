/**
 * PostgresStore: the Store conformance suite on a fresh database per store, and what only a shared
 * database shows (nodes migrating together, sweeping together, appending to the cluster log together).
 *
 * LOCKSTEP_TEST_POSTGRES_URL names a database the tests may connect to and CREATE DATABASE from
 * (default postgres://postgres@127.0.0.1:5432/test). Unreachable: the tests are skipped, loudly, except
 * with CI=true, where that is a failure.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { DEFAULT_ORG_SETTINGS, type AccessToken } from '../src/core/records.ts';
import { MIGRATIONS } from '../src/store/postgres/migrations.ts';
import { CLUSTER_LOG_LOCK, PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { runStoreConformance } from './store-conformance.ts';
import { freshPostgresDatabase, postgresProblem, requireService, TEST_POSTGRES_URL } from './helpers/services.ts';

const ADMIN_URL = TEST_POSTGRES_URL;
const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;

const admin = new pg.Pool({ connectionString: ADMIN_URL, max: 4 });

type FreshDatabase = Awaited<ReturnType<typeof freshPostgresDatabase>>;
const freshDatabase = (template?: string) => freshPostgresDatabase(ADMIN_URL, { template });

/**
 * The conformance suite's databases: each a new database of its own, copied from one migrated once (the
 * migrations on an empty database have tests of their own below), and a few made ahead, together (CREATE
 * DATABASE mostly waits on the disk): some eighty must fit the test runner's time limit on a busy machine.
 */
class ConformanceDatabases {
  static readonly AHEAD = 4;
  #template: Promise<FreshDatabase> | null = null;
  readonly #ahead: Promise<FreshDatabase>[] = [];
  readonly #dropping: Promise<void>[] = [];

  take(): Promise<FreshDatabase> {
    while (this.#ahead.length <= ConformanceDatabases.AHEAD) {
      const made = this.#make();
      made.catch(() => undefined); // a failure is reported by the test that takes it
      this.#ahead.push(made);
    }
    return this.#ahead.shift()!;
  }

  async #make(): Promise<FreshDatabase> {
    this.#template ??= (async () => {
      const template = await freshDatabase();
      await (await PostgresStore.open(template.url)).close();
      return template;
    })();
    return freshDatabase((await this.#template).name);
  }

  /** Drops a used database while the next test runs; `dropAll` waits for it. */
  dropLater(db: FreshDatabase): void {
    this.#dropping.push(db.drop().catch((err: Error) => console.error(`could not drop test database ${db.name}: ${err.message}`)));
  }

  async dropAll(): Promise<void> {
    const left = await Promise.all(this.#ahead.splice(0).map((db) => db.catch(() => null)));
    await Promise.all([...left.map((db) => db?.drop()), ...this.#dropping.splice(0)]);
    await (await this.#template?.catch(() => null))?.drop();
  }
}
const conformanceDatabases = new ConformanceDatabases();
after(async () => {
  await conformanceDatabases.dropAll();
  await admin.end();
});

const { skip } = requireService('PostgreSQL', await postgresProblem());

if (!skip) {
  runStoreConformance('PostgresStore', async () => {
    const db = await conformanceDatabases.take();
    const store = await PostgresStore.open(db.url, { max: 4 });
    return {
      store,
      anotherNode: () => PostgresStore.open(db.url, { max: 4 }),
      cleanup: async () => {
        await store.close();
        conformanceDatabases.dropLater(db);
      },
    };
  });

  describe('PostgresStore on a shared database', () => {
    /** A fresh database and the stores opened on it; all closed and dropped by `done`. */
    async function cluster() {
      const db = await freshDatabase();
      const stores: PostgresStore[] = [];
      const open = async () => {
        const store = await PostgresStore.open(db.url, { max: 4 });
        stores.push(store);
        return store;
      };
      const done = async () => {
        await Promise.all(stores.map((s) => s.close()));
        await db.drop();
      };
      return { url: db.url, open, done };
    }

    test('nodes opening a fresh database at the same moment all succeed: each migration runs once', async () => {
      const c = await cluster();
      try {
        const logs: string[][] = [];
        const opened = await Promise.all(Array.from({ length: 4 }, (_, i) => {
          logs[i] = [];
          return PostgresStore.open(c.url, { max: 2, log: (m) => logs[i]!.push(m) });
        }));
        try {
          const client = new pg.Client({ connectionString: c.url });
          await client.connect();
          const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
          await client.end();
          assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
          assert.equal(logs.flat().filter((m) => m.includes('applied migration')).length, MIGRATIONS.length, 'applied once, by one of them');
          await opened[0]!.createOrg({ id: 'o', name: 'O', createdAt: T0 }, DEFAULT_ORG_SETTINGS);
          assert.equal(await opened[3]!.countOrgs(), 1, 'they share one database');
        } finally {
          await Promise.all(opened.map((s) => s.close()));
        }
        const reopened = await PostgresStore.open(c.url, { log: (m) => assert.fail(`nothing to migrate, yet: ${m}`) });
        await reopened.close();
      } finally {
        await c.done();
      }
    });

    test('two nodes sweeping the same due tokens at once: each expires once, with one audit entry and one log entry', async () => {
      const c = await cluster();
      try {
        const [a, b] = [await c.open(), await c.open()];
        await a.createOrg({ id: 'o', name: 'O', createdAt: T0 }, DEFAULT_ORG_SETTINGS);
        for (let round = 0; round < 5; round++) {
          const tokens: AccessToken[] = Array.from({ length: 20 }, () => {
            const id = `at-${randomUUID()}`;
            return {
              id, hash: `hash-${id}`, orgId: 'o', userId: 'u1', clientId: 'c1', sessionId: null, grantId: `grant-${id}`, scope: 'openid',
              issuedAt: T0, expiresAt: T0 + 60 * MIN, lastActivityAt: T0, idleDeadlineAt: T0 + 15 * MIN, revokedAt: null, revokeReason: null,
            };
          });
          for (const t of tokens) await a.saveAccessToken(t);
          const start = await a.lastLogSeq();
          const batch = tokens.map((t) => ({ token: t, deadline: T0 + 15 * MIN }));
          const [byA, byB] = await Promise.all([a.expireIdleTokens(batch, T0 + 16 * MIN), b.expireIdleTokens([...batch].reverse(), T0 + 16 * MIN)]);
          const expired = [...byA, ...byB].map((e) => e.id);
          assert.deepEqual([...expired].sort(), tokens.map((t) => t.id).sort(), `round ${round}: every token expired exactly once`);
          const log = await b.logAfter(start, 100);
          assert.equal(log.length, tokens.length, 'one cluster-log entry per token');
          assert.equal([...byA, ...byB].filter((e) => e.userOffline).length > 0, true, 'the user went offline');
        }
        assert.equal((await a.listAudit('o', { kind: 'idle_timeout', limit: 1 })).total, 100, 'one audit entry per token');
      } finally {
        await c.done();
      }
    });

    /**
     * A store on a fresh database, a cluster-log append left open on a connection of its own (`done` commits or
     * rolls it back) and one committed after it: `check` gets them and the log's end before both.
     */
    async function withOpenAppend(check: (store: PostgresStore, start: number, held: { first: number; second: number; done(how: 'COMMIT' | 'ROLLBACK'): Promise<void> }) => Promise<void>) {
      const c = await cluster();
      const open = new pg.Client({ connectionString: c.url });
      try {
        const store = await c.open();
        const start = await store.lastLogSeq();
        await open.connect();
        await open.query('BEGIN');
        await open.query('SELECT pg_advisory_xact_lock_shared($1)', [CLUSTER_LOG_LOCK]);
        const { rows: [row] } = await open.query("INSERT INTO cluster_log (at, kind, org_id) VALUES ($1, 'org_changed', 'o') RETURNING seq", [T0]);
        const first = Number(row.seq);
        const second = await store.appendChange({ kind: 'org_changed', orgId: 'o' }, T0 + 1);
        assert.ok(second > first, 'the later append drew a higher seq and committed first');
        await check(store, start, { first, second, done: async (how) => void (await open.query(how)) });
      } finally {
        await open.end().catch(() => {});
        await c.done();
      }
    }

    test('an append still open holds a reader back: an entry committed after it is read only with it', () => withOpenAppend(async (store, start, held) => {
      assert.deepEqual(await store.logAfter(start, 10), [], 'nothing past the open append');
      // A reader stopped at the gap long enough reads across it under the lock, which waits for the open append.
      for (const deadline = Date.now() + 20_000; ;) {
        const read = store.logAfter(start, 10);
        let waiting = false;
        while (!waiting) {
          const settled = await Promise.race([read.then(() => true), new Promise((r) => setTimeout(() => r(false), 10))]);
          if (settled) break;
          waiting = (await admin.query('SELECT 1 FROM pg_locks WHERE locktype = $1 AND NOT granted', ['advisory'])).rows.length > 0;
        }
        if (waiting) {
          await held.done('COMMIT');
          assert.deepEqual((await read).map((e) => e.seq), [held.first, held.second]);
          return;
        }
        assert.deepEqual(await read, [], 'still nothing past the open append');
        assert.ok(Date.now() < deadline, 'the reader never read across the gap under the lock');
      }
    }));

    test('an append rolled back leaves a gap that readers pass once it has lasted', () => withOpenAppend(async (store, start, held) => {
      await held.done('ROLLBACK');
      let read: number[] = [];
      for (const deadline = Date.now() + 20_000; !read.length && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        read = (await store.logAfter(start, 10)).map((e) => e.seq);
      }
      assert.deepEqual(read, [held.second]);
    }));

    test('a reader following the cluster log while two nodes append never skips an entry (seqs become visible in order)', async () => {
      const c = await cluster();
      try {
        const [a, b, reader] = [await c.open(), await c.open(), await c.open()];
        await a.createOrg({ id: 'o', name: 'O', createdAt: T0 }, DEFAULT_ORG_SETTINGS);
        const seen: number[] = [];
        let writing = true;
        const follow = (async () => {
          let last = 0;
          while (writing || last < (await reader.lastLogSeq())) {
            for (const e of await reader.logAfter(last, 50)) {
              seen.push(e.seq);
              last = e.seq;
            }
          }
        })();
        const append = (store: PostgresStore, n: number) => (async () => {
          for (let i = 0; i < n; i++) await store.appendChange({ kind: 'user_changed', orgId: 'o', userId: `u${i}` }, T0 + i);
        })();
        await Promise.all([append(a, 150), append(b, 150), append(a, 150), append(b, 150)]);
        writing = false;
        await follow;
        const all = (await reader.logAfter(0, 1000)).map((e) => e.seq);
        assert.equal(all.length, 600);
        assert.deepEqual(seen, all, 'the follower saw every entry, in order, none after a higher one');
      } finally {
        await c.done();
      }
    });
  });
}
