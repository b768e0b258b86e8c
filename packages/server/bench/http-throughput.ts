import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ThroughputResult {
  bare: { reqPerSec: number; p99Ms: number };
  authenticated: { reqPerSec: number; p99Ms: number; tokens: number };
  ratio: number;
}

const SECRET = 'bench-secret';

async function token(url: string): Promise<string> {
  const res = await fetch(url + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`automation:${SECRET}`).toString('base64') },
    body: 'grant_type=client_credentials',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ connections: 50, pipelining: 1, duration: 8, ...opts });
}

/** (a) a bare Fastify HEAD route vs (b) HEAD /api/v2/tokens/me with a bearer token, idle timeout on, same run. */
export async function httpThroughput(log: (s: string) => void): Promise<ThroughputResult> {
  const child = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [{ bareUrl, lockstepUrl }] = (await once(child, 'message')) as [{ bareUrl: string; lockstepUrl: string }];
  try {
    const admin = await token(lockstepUrl);
    const put = await fetch(lockstepUrl + '/api/v2/tokens/timeout', {
      method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: 3600 }),
    });
    if (!put.ok) throw new Error(`enabling the idle timeout failed: ${put.status}`);
    // Enough that none reaches its 1,200-a-minute request limit over both runs (about 60,000 req/s for 10 s): a token past
    // it gets 429, whose HEAD answer autocannon mistakes for a body still to come, and its connection stalls.
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => token(lockstepUrl)));
    log(`  ${tokens.length} client-credentials tokens, idle timeout on (3600 s)`);

    await run({ url: bareUrl + '/bare', method: 'HEAD', duration: 2 }); // warm-up
    // Spread over every token: one token alone would pass its per-minute request limit (429) within the warm-up.
    await run({ url: lockstepUrl, duration: 2, requests: tokens.map((t) => ({ method: 'HEAD', path: '/api/v2/tokens/me', headers: { authorization: `Bearer ${t}` } })) });
    // Same requests, Authorization header included, so the load generator does the same work for both.
    const bare = await run({
      url: bareUrl,
      requests: tokens.map((t) => ({ method: 'HEAD', path: '/bare', headers: { authorization: `Bearer ${t}` } })),
    });
    log(`  bare Fastify:      ${Math.round(bare.requests.average)} req/s, p99 ${bare.latency.p99} ms`);
    const auth = await run({
      url: lockstepUrl,
      requests: tokens.map((t) => ({ method: 'HEAD', path: '/api/v2/tokens/me', headers: { authorization: `Bearer ${t}` } })),
    });
    if (auth.non2xx) throw new Error(`${auth.non2xx} authenticated requests were refused`);
    log(`  authenticated API: ${Math.round(auth.requests.average)} req/s, p99 ${auth.latency.p99} ms`);
    return {
      bare: { reqPerSec: Math.round(bare.requests.average), p99Ms: bare.latency.p99 },
      authenticated: { reqPerSec: Math.round(auth.requests.average), p99Ms: auth.latency.p99, tokens: tokens.length },
      ratio: Number((auth.requests.average / bare.requests.average).toFixed(3)),
    };
  } finally {
    child.disconnect();
    child.kill();
  }
}
