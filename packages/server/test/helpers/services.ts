import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
export const REDIS_SERVER = '/usr/bin/redis-server';

/** Skips loudly when a service is missing (`problem` set); under CI=true a missing service is a failing test instead. */
export function requireService(name: string, problem: string | undefined): { skip?: string } {
  if (!problem) return {};
  const message = `${name} not reachable: ${problem}`;
  if (process.env.CI === 'true') {
    test(`${name} is available (required under CI=true)`, () => assert.fail(message));
  } else {
    console.warn(`SKIPPING tests that need ${name}: ${message}`);
  }
  return { skip: message };
}

export async function redisProblem(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1_000, maxRetriesPerRequest: 0 });
  let lastError: Error | undefined;
  probe.on('error', (err: Error) => void (lastError = err));
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return `${url} (${(lastError ?? (err as Error)).message}); start a redis-server there to run these tests`;
  } finally {
    probe.disconnect();
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let problem: string | undefined = 'no answer';
  for (const deadline = Date.now() + 5_000; Date.now() < deadline && child.exitCode === null; ) {
    problem = await redisProblem(`redis://127.0.0.1:${port}`);
    if (!problem) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start (exit code ${child.exitCode}): ${problem}`);
}

export async function stopRedisServer(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}


export const TEST_POSTGRES_URL = process.env.LOCKSTEP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresProblem(url = TEST_POSTGRES_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `${url} (${(err as Error).message}); start PostgreSQL there or set LOCKSTEP_TEST_POSTGRES_URL to run these tests`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why a cluster (PostgreSQL and a redis-server of our own) cannot be started here, or undefined when it can. */
export async function clusterProblem(): Promise<string | undefined> {
  return (await postgresProblem()) ?? (existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} not found`);
}

/** A new database on the server of `url` (empty, or a copy of `template`); `drop` removes it, closing whatever is still connected. */
export async function freshPostgresDatabase(url = TEST_POSTGRES_URL, { template = 'template1', prefix = 'lockstep_test' } = {}): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return { name, url: dbUrl.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
