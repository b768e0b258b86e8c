// npm run bench -- cluster: two cluster nodes (child processes) on a PostgreSQL database created for the run and the
// local Redis (a bus channel of the run's own): logout on A → token_revoked on B's 10,000 channels, memory per node,
// the hot path on a node vs bare Fastify, then idle-expiry lateness on a cluster node tracking 1,000,000 tokens.
// Also written to bench/results/cluster.{json,md}. The database is dropped and the nodes stopped on any outcome.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { clusterExpirer, type ClusterExpirerResult } from './cluster-expirer.ts';
import { hotPath, type HotPathResult } from './hot-path.ts';
import { comparisonRow } from './interleave.ts';
import { freePort, freshDatabase, REDIS_URL, round, startNode, type BenchNode } from './cluster-kit.ts';
import { crossNodeLogout, type CrossNodeLogoutResult, type LogoutRound } from './cluster-logout.ts';
import type { NodeSeeded } from './cluster-node.ts';

export interface ClusterResult {
  at: string;
  node: string;
  cpus: number;
  /** 1-minute load average when the run started and ended: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number };
  logout: CrossNodeLogoutResult;
  http: HotPathResult;
  expirer: ClusterExpirerResult;
}

const USERS = 5000; // × 2 clients = 10,000 channels on node B

export async function cluster(log: (s: string) => void): Promise<ClusterResult> {
  const loadAtStart = loadavg()[0]!;
  const db = await freshDatabase();
  const channel = `lockstep:bench:${randomUUID()}`;
  const nodes: BenchNode[] = [];
  const cleanUp = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db.drop();
  };
  const onSignal = () => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  log(`  database ${db.name}, Redis ${REDIS_URL} channel ${channel}; load average ${loadAtStart.toFixed(2)} on ${cpus().length} CPUs`);
  try {
    const portA = await freePort();
    const shared = {
      LOCKSTEP_DATABASE_URL: db.url, LOCKSTEP_REDIS_URL: REDIS_URL, CLUSTER_BUS_CHANNEL: channel,
      LOCKSTEP_ISSUER: `http://127.0.0.1:${portA}`, // both nodes name the same issuer (node A's address stands in for a balancer's)
    };
    // One at a time, as an operator would: the first node migrates and seeds the demo org.
    const b = await startNode('B', { ...shared, PORT: '0' });
    nodes.push(b);
    const seeded = await b.ask<NodeSeeded>({ type: 'seed', users: USERS });
    const a = await startNode('A', { ...shared, PORT: String(portA), CLUSTER_BARE: '1' });
    nodes.push(a);
    log(`  node B ${b.url} (${USERS} users × 2 tokens seeded through it), node A ${a.url}`);

    log('  1. logout on node A → token_revoked on node B:');
    const logout = await crossNodeLogout(log, a, b, seeded);
    log('  2. hot path on node A vs bare Fastify:');
    const http = await hotPath(log, { name: 'node A', url: a.url, bareUrl: a.bareUrl! }, 0.8);
    await Promise.all(nodes.map((n) => n.stop())); // the expirer gets the machine to itself
    log('  3. idle expirer on a cluster node:');
    const expirer = await clusterExpirer(log, { databaseUrl: db.url, redisUrl: REDIS_URL, channel });

    const result: ClusterResult = {
      at: new Date().toISOString(), node: process.version, cpus: cpus().length,
      loadAverage: { start: round(loadAtStart), end: round(loadavg()[0]!) }, logout, http, expirer,
    };
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL('cluster.json', dir), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(new URL('cluster.md', dir), `# Lockstep cluster benchmark (${result.at}, node ${result.node}, ${result.cpus} CPUs, load average ${result.loadAverage.start} → ${result.loadAverage.end})\n\n` +
      ['| measure | value |', '|---|---|', ...clusterRows(result)].join('\n') + '\n');
    return result;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await cleanUp();
  }
}

/** Markdown table rows for bench/results (run.ts adds them to latest.md too). */
export function clusterRows(r: ClusterResult): string[] {
  const { logout: l, http: h, expirer: e } = r;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const logouts = (x: LogoutRound, how: string, target = '') =>
    `| cluster: logout sent to node A → token_revoked on node B (${l.channelsOnB} channels on B; ${x.logouts} universal logouts ${how}) | ` +
    `p50 ${x.requestToEventMs.p50} ms, p99 ${x.requestToEventMs.p99} ms, max ${x.requestToEventMs.max} ms${target}; ${x.missing} missing; ` +
    `logout response p50 ${x.logoutResponseMs.p50} ms, p99 ${x.logoutResponseMs.p99} ms; ${x.logoutsPerSec} logouts/s |`;
  return [
    logouts(l.main, `${l.main.concurrency} at a time`, ` (target p99 <= ${l.target.p99Ms} ms: ${met(l.target.met)})`),
    logouts(l.serial, 'one at a time, for context'),
    `| cluster: memory at the end of the logouts (after full GC) | node A rss ${l.memory.a.rssMiB} MiB, heap ${l.memory.a.heapUsedMiB} MiB; ` +
      `node B (${l.memory.b.channels} channels) rss ${l.memory.b.rssMiB} MiB, heap ${l.memory.b.heapUsedMiB} MiB |`,
    comparisonRow('cluster: HEAD /api/v2/tokens/me on node A / bare Fastify', h),
    `| cluster: idle expirer lateness (${e.tokens} tokens tracked on a node with PostgreSQL, ${e.due} due over ${e.spreadSeconds} s) | ` +
      `p50 ${e.latenessMs.p50} ms, p99 ${e.latenessMs.p99} ms, max ${e.latenessMs.max} ms (target p99 <= ${e.target.p99Ms} ms: ${met(e.target.met)}); ` +
      `${e.expiriesPerSec} expiries/s; ${e.bytesPerToken} bytes/token; seeded at ${e.seed.rowsPerSec} rows/s |`,
  ];
}
