// Parent-side helpers of the cluster benchmark: a database of its own, cluster nodes in child processes, small statistics.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
// The tests' helpers for services: the bench needs the same database and port handling.
import { freePort, freshPostgresDatabase } from '../test/helpers/services.ts';
import type { NodeMemory, NodeReady, NodeReply } from './cluster-node.ts';

export const ADMIN_DATABASE_URL = process.env.LOCKSTEP_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.LOCKSTEP_BENCH_REDIS ?? 'redis://127.0.0.1:6379';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (x: number, digits = 2) => Number(x.toFixed(digits));
export const percentile = (sorted: ArrayLike<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

export function summary(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((x, y) => x - y);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) };
}

export function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** A database created for this run; drop() ends any connection still open to it (PostgreSQL 13+). */
export const freshDatabase = () => freshPostgresDatabase(ADMIN_DATABASE_URL, { prefix: 'lockstep_bench_cluster' });
export { freePort };

export interface BenchNode {
  name: string;
  url: string;
  bareUrl: string | null;
  child: ChildProcess;
  /** Sends a request to the node's process and resolves with its reply of the same type. */
  ask<T extends NodeReply>(message: { type: T['type'] } & Record<string, unknown>): Promise<T>;
  memory(): Promise<NodeMemory>;
  stop(): Promise<void>;
}

/** One cluster node (bench/cluster-node.ts) in a child process, so no load generator shares its event loop. */
export async function startNode(name: string, env: Record<string, string>): Promise<BenchNode> {
  const child = fork(fileURLToPath(new URL('./cluster-node.ts', import.meta.url)), {
    // LOCKSTEP_BENCH_PROF_DIR: each node writes a CPU profile there when it exits.
    execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.LOCKSTEP_BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LOCKSTEP_BENCH_PROF_DIR}`] : [])], stdio: 'inherit', env: { ...process.env, ...env, CLUSTER_NODE_NAME: name },
  });
  const stop = async () => {
    if (child.exitCode != null || child.signalCode != null) return;
    if (child.connected) child.disconnect();
    await Promise.race([once(child, 'exit'), sleep(5000)]);
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL');
  };
  const ready = await Promise.race([
    once(child, 'message').then(([m]) => m as NodeReady),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`node ${name} exited (${code}) before it was ready`))),
  ]).catch(async (err) => {
    await stop();
    throw err;
  });
  const ask = async <T extends NodeReply>(message: { type: T['type'] }) => {
    const reply = new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => {
        child.off('message', onMessage);
        reject(new Error(`node ${name} exited (${code}) before answering ${message.type}`));
      };
      const onMessage = (m: NodeReply) => {
        if (m.type !== message.type) return;
        child.off('message', onMessage).off('exit', onExit);
        if ('error' in m && m.error) reject(new Error(`node ${name}: ${m.error}`));
        else resolve(m as T);
      };
      child.on('message', onMessage).once('exit', onExit);
    });
    child.send(message);
    return reply;
  };
  return { name, url: ready.url, bareUrl: ready.bareUrl, child, ask, memory: () => ask<NodeMemory>({ type: 'memory' }), stop };
}

export { call } from './bench-kit.ts';
