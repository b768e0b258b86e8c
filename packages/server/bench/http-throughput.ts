import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { hotPath, type HotPathResult } from './hot-path.ts';

/** The target of issue 14: the authenticated hot path at 85 % of a bare Fastify route's throughput or better. */
const TARGET_RATIO = 0.85;

/** The embedded default (SQLite, in-process bus) and a bare Fastify route in one child process (bench/servers.ts). */
export async function httpThroughput(log: (s: string) => void): Promise<HotPathResult> {
  const child = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [{ bareUrl, lockstepUrl }] = (await once(child, 'message')) as [{ bareUrl: string; lockstepUrl: string }];
  try {
    return await hotPath(log, { name: 'one node', url: lockstepUrl, bareUrl }, TARGET_RATIO);
  } finally {
    child.disconnect();
    child.kill();
  }
}
