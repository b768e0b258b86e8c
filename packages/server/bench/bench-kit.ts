import { mkdtempSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import type { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

/** The real server on an ephemeral port and a temporary data directory, demo seeded, for a bench's server process. */
export async function startBenchServer(name: string) {
  const dataDir = mkdtempSync(join(tmpdir(), `lockstep-bench-${name}-`));
  const server = await startServer(configFromEnv({
    PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOG_LEVEL: 'warn',
    LOCKSTEP_DEMO_PASSWORD: 'bench-password', LOCKSTEP_DEMO_CLIENT_SECRET: 'bench-secret',
  }));
  return { dataDir, server, authority: server.authority, store: server.authority.store as SqliteStore };
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

/** One HTTP call with node:http (its agent can be destroyed, so no idle keep-alive sockets stay on the server). */
export function call(agent: Agent, method: string, url: string, token: string): Promise<{ status: number; body: string; doneAt: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { authorization: `Bearer ${token}`, 'content-length': '0' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, doneAt: performance.now() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The demo `automation` client's credentials as bench servers seed them (bench/peer-server.ts configures the same). */
export const AUTOMATION_BASIC = 'Basic ' + Buffer.from('automation:bench-secret').toString('base64');

/** A client_credentials access token from the token endpoint at `url + path`, as the `automation` client. */
export async function clientCredentialsToken(url: string, path = '/oauth/token', body = 'grant_type=client_credentials'): Promise<string> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTOMATION_BASIC }, body });
  if (!res.ok) throw new Error(`client credentials grant at ${url + path} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
