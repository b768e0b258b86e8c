import autocannon from 'autocannon';
import { clientCredentialsToken, pool } from './bench-kit.ts';
import { compareInterleaved, type Comparison } from './interleave.ts';

export interface HotPathResult extends Comparison {
  tokens: number;
}

const ROUNDS = 8;
const SECONDS = 4;
/**
 * Each token may make LIMITS.requestsPerTokenPerMinute (1,200) API calls a minute; beyond, a 429 (whose HEAD
 * answer announces a body autocannon then waits for). Enough tokens that no run comes near it.
 */
const TOKENS = 1000;

const run = (opts: autocannon.Options) => autocannon({ connections: 50, pipelining: 1, ...opts });

/** A Lockstep server and a bare Fastify HEAD route (`/bare`) in the same process. */
export interface HotPathServer {
  name: string;
  url: string;
  bareUrl: string;
}

/**
 * HEAD /api/v2/tokens/me (idle timeout on, so every call records activity that is written back to the store) vs
 * the bare Fastify HEAD route in the same process, same Authorization headers, in interleaved rounds.
 */
export async function hotPath(log: (s: string) => void, node: HotPathServer, targetRatio: number): Promise<HotPathResult> {
  const admin = await clientCredentialsToken(node.url);
  const put = await fetch(node.url + '/api/v2/tokens/timeout', {
    method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 3600 }),
  });
  if (!put.ok) throw new Error(`enabling the idle timeout failed: ${put.status} ${await put.text()}`);
  const tokens: string[] = [];
  await pool(Array.from({ length: TOKENS }), 8, async () => void tokens.push(await clientCredentialsToken(node.url)));
  log(`  ${tokens.length} client-credentials tokens from ${node.name}, idle timeout on (3600 s); ${ROUNDS} rounds × 2 runs × ${SECONDS} s`);

  const bare = (duration: number) => run({ url: node.bareUrl, duration, requests: tokens.map((t) => ({ method: 'HEAD', path: '/bare', headers: { authorization: `Bearer ${t}` } })) });
  const authenticated = async (duration: number) => {
    const r = await run({ url: node.url, duration, requests: tokens.map((t) => ({ method: 'HEAD', path: '/api/v2/tokens/me', headers: { authorization: `Bearer ${t}` } })) });
    if (r.non2xx || r.errors || r.timeouts) throw new Error(`${r.non2xx} authenticated requests refused, ${r.errors} errors, ${r.timeouts} timeouts`);
    return r;
  };
  const result = await compareInterleaved(log, { name: node.name, run: authenticated }, { name: 'bare Fastify', run: bare }, { rounds: ROUNDS, seconds: SECONDS, targetRatio });
  // Every run's connections start on tokens[0], the most used: if it still has headroom, no run was stalled by a 429.
  const check = await fetch(node.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${tokens[0]}` } });
  if (check.status !== 200) throw new Error(`the per-token rate limit was reached (HEAD answered ${check.status}): raise TOKENS in bench/hot-path.ts`);
  return { ...result, tokens: tokens.length };
}
