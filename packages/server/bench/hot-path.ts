import autocannon from 'autocannon';
import { pool } from './bench-kit.ts';
import { median, round } from './cluster-kit.ts';

export interface HotPathResult {
  rounds: { bareReqPerSec: number; authenticatedReqPerSec: number; ratio: number; bareP99Ms: number; authenticatedP99Ms: number }[];
  ratio: { median: number; min: number; max: number };
  bareReqPerSec: number;
  authenticatedReqPerSec: number;
  tokens: number;
  secondsPerRun: number;
  target: { ratio: number; met: boolean };
}

const SECRET = 'bench-secret';
const ROUNDS = 8;
const SECONDS = 4;
/**
 * Each token may make LIMITS.requestsPerTokenPerMinute (1,200) API calls a minute; beyond, a 429 (whose HEAD
 * answer announces a body autocannon then waits for). Enough tokens that no run comes near it.
 */
const TOKENS = 1000;

async function clientToken(url: string): Promise<string> {
  const res = await fetch(url + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`automation:${SECRET}`).toString('base64') },
    body: 'grant_type=client_credentials',
  });
  if (!res.ok) throw new Error(`client credentials grant answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const run = (opts: autocannon.Options) => autocannon({ connections: 50, pipelining: 1, ...opts });

/** A Lockstep server and a bare Fastify HEAD route (`/bare`) in the same process. */
export interface HotPathServer {
  name: string;
  url: string;
  bareUrl: string;
}

/**
 * HEAD /api/v2/tokens/me (idle timeout on, so every call records activity that is written back to the store) vs
 * the bare Fastify HEAD route in the same process, same Authorization headers. Rounds alternate which goes first,
 * so drift on a shared machine falls on both; the median of the rounds' ratios counts.
 */
export async function hotPath(log: (s: string) => void, node: HotPathServer, targetRatio: number): Promise<HotPathResult> {
  const admin = await clientToken(node.url);
  const put = await fetch(node.url + '/api/v2/tokens/timeout', {
    method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 3600 }),
  });
  if (!put.ok) throw new Error(`enabling the idle timeout failed: ${put.status} ${await put.text()}`);
  const tokens: string[] = [];
  await pool(Array.from({ length: TOKENS }), 8, async () => void tokens.push(await clientToken(node.url)));
  log(`  ${tokens.length} client-credentials tokens from ${node.name}, idle timeout on (3600 s); ${ROUNDS} rounds × 2 runs × ${SECONDS} s`);

  const bare = (duration = SECONDS) => run({ url: node.bareUrl, duration, requests: tokens.map((t) => ({ method: 'HEAD', path: '/bare', headers: { authorization: `Bearer ${t}` } })) });
  const authenticated = async (duration = SECONDS) => {
    const r = await run({ url: node.url, duration, requests: tokens.map((t) => ({ method: 'HEAD', path: '/api/v2/tokens/me', headers: { authorization: `Bearer ${t}` } })) });
    if (r.non2xx || r.errors || r.timeouts) throw new Error(`${r.non2xx} authenticated requests refused, ${r.errors} errors, ${r.timeouts} timeouts`);
    return r;
  };
  await bare(2); // warm-up
  await authenticated(2);

  const rounds: HotPathResult['rounds'] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let a: autocannon.Result, b: autocannon.Result;
    if (i % 2) {
      a = await authenticated();
      b = await bare();
    } else {
      b = await bare();
      a = await authenticated();
    }
    const r = {
      bareReqPerSec: Math.round(b.requests.average), authenticatedReqPerSec: Math.round(a.requests.average),
      ratio: round(a.requests.average / b.requests.average, 3), bareP99Ms: b.latency.p99, authenticatedP99Ms: a.latency.p99,
    };
    rounds.push(r);
    log(`    round ${i + 1}: bare ${r.bareReqPerSec} req/s (p99 ${r.bareP99Ms} ms), ${node.name} ${r.authenticatedReqPerSec} req/s (p99 ${r.authenticatedP99Ms} ms), ratio ${r.ratio}`);
  }
  // Every run's connections start on tokens[0], the most used: if it still has headroom, no run was stalled by a 429.
  const check = await fetch(node.url + '/api/v2/tokens/me', { method: 'HEAD', headers: { authorization: `Bearer ${tokens[0]}` } });
  if (check.status !== 200) throw new Error(`the per-token rate limit was reached (HEAD answered ${check.status}): raise TOKENS in bench/hot-path.ts`);
  const ratios = rounds.map((r) => r.ratio);
  const result: HotPathResult = {
    rounds,
    ratio: { median: round(median(ratios), 3), min: Math.min(...ratios), max: Math.max(...ratios) },
    bareReqPerSec: Math.round(median(rounds.map((r) => r.bareReqPerSec))),
    authenticatedReqPerSec: Math.round(median(rounds.map((r) => r.authenticatedReqPerSec))),
    tokens: tokens.length, secondsPerRun: SECONDS,
    target: { ratio: targetRatio, met: false },
  };
  result.target.met = result.ratio.median >= targetRatio;
  log(`  hot path on ${node.name} / bare Fastify: median ratio ${result.ratio.median} (rounds ${result.ratio.min}–${result.ratio.max}); ` +
    `median ${result.authenticatedReqPerSec} vs ${result.bareReqPerSec} req/s; target >= ${targetRatio}: ${result.target.met ? 'met' : 'NOT met'}`);
  return result;
}
