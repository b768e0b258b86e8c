import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { FanoutMemory, FanoutReady } from './fanout-server.ts';
import { call, pool } from './bench-kit.ts';

export interface FanoutResult {
  users: number;
  channels: number;
  logouts: number;
  logoutConcurrency: number;
  /** t(token_revoked on the other client's socket) − t(logout response fully received), in ms, as measured (may be negative). */
  latencyMs: { p50: number; p99: number; max: number; min: number; negative: number };
  /** The same with negative values clamped to 0 (an event that beat the response counts as 0 ms). */
  latencyClampedMs: { p50: number; p99: number; max: number };
  /** For context: t(token_revoked on the other client) − t(logout request sent), i.e. end to end. */
  requestToEventMs: { p50: number; p99: number; max: number };
  logoutResponseMs: { p50: number; p99: number };
  /** Back-channel logout tokens delivered to crm-backend's local receiver (one per universal logout). */
  backchannelLogouts: number;
  missing: number;
  closedWith4001: number;
  strayEvents: number;
  memory: { bytesPerChannel: number; rssBytesPerChannel: number; heapDeltaBytes: number; externalDeltaBytes: number; rssDeltaBytes: number };
  target: { p99Ms: number; bytesPerChannel: number; met: boolean };
  setupMs: { server: number; channels: number; sockets: number };
}

const USERS = 5000;
const LOGOUTS = 1000;
const LOGOUT_CONCURRENCY = 8;
const TARGET = { p99Ms: 30, bytesPerChannel: 10 * 1024 };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));



async function serverMemory(child: ChildProcess): Promise<FanoutMemory> {
  child.send({ type: 'memory' });
  for (;;) {
    const [m] = (await once(child, 'message')) as [FanoutMemory];
    if (m.type === 'memory') return m;
  }
}

/**
 * 5,000 users × 2 clients = 10,000 notification channels with a WebSocket each, on a server in a
 * child process; then 1,000 of the users (spread) log out from client 1 with universal logout on.
 * Latency = when client 2's socket receives token_revoked − when client 1's logout response was
 * fully received. Memory per channel = the server's (heapUsed + external) growth from connecting
 * the channels, after a full GC, / 10,000 (RSS growth reported beside it).
 */
export async function fanout(log: (s: string) => void): Promise<FanoutResult> {
  const t0 = performance.now();
  const child = fork(fileURLToPath(new URL('./fanout-server.ts', import.meta.url)), {
    execArgv: ['--expose-gc', '--import', 'tsx'], stdio: 'inherit', env: { ...process.env, FANOUT_USERS: String(USERS) },
  });
  const sockets: WebSocket[] = [];
  try {
    const [ready] = (await once(child, 'message')) as [FanoutReady];
    const setupServer = performance.now() - t0;
    const { url, users } = ready;
    const tokens = users.flatMap((u) => u.tokens); // token 2u = user u on agent-desktop, 2u+1 = on crm-embedded
    log(`  server: ${users.length} users, ${tokens.length} tokens seeded in ${Math.round(setupServer)} ms`);

    await sleep(1500); // let the activity write-back and startup settle
    const before = await serverMemory(child);

    // One channel per token, bounded concurrency.
    const t1 = performance.now();
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const connectUris: string[] = new Array(tokens.length);
    await pool(tokens, 32, async (token, i) => {
      const res = await call(agent, 'POST', url + '/api/v2/notifications/channels', token);
      if (res.status !== 200) throw new Error(`creating a channel answered ${res.status}: ${res.body}`);
      connectUris[i] = (JSON.parse(res.body) as { connectUri: string }).connectUri;
    });
    agent.destroy();
    const setupChannels = performance.now() - t1;

    // One WebSocket per channel.
    const t2 = performance.now();
    const revokedAt = new Float64Array(tokens.length).fill(NaN);
    const revokedEvents = new Uint16Array(tokens.length);
    const closeCodes = new Uint16Array(tokens.length);
    await pool(connectUris, 200, async (uri, i) => {
      const ws = new WebSocket(uri, { perMessageDeflate: false });
      sockets[i] = ws;
      ws.on('message', (data) => {
        const at = performance.now();
        const m = JSON.parse(String(data)) as { topicName: string };
        if (m.topicName === 'v2.system.token_revoked') {
          if (Number.isNaN(revokedAt[i]!)) revokedAt[i] = at;
          revokedEvents[i]!++;
        }
      });
      ws.on('close', (code) => (closeCodes[i] = code));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
    });
    const setupSockets = performance.now() - t2;
    log(`  ${connectUris.length} channels created in ${Math.round(setupChannels)} ms, ${sockets.length} WebSockets connected in ${Math.round(setupSockets)} ms`);

    await sleep(1500);
    const after = await serverMemory(child);
    if (after.channels !== tokens.length) throw new Error(`the server holds ${after.channels} channels, expected ${tokens.length}`);
    const heapDelta = after.usage.heapUsed - before.usage.heapUsed;
    const externalDelta = after.usage.external - before.usage.external;
    const rssDelta = after.usage.rss - before.usage.rss;
    const memory = {
      bytesPerChannel: Math.round((heapDelta + externalDelta) / tokens.length),
      rssBytesPerChannel: Math.round(rssDelta / tokens.length),
      heapDeltaBytes: heapDelta, externalDeltaBytes: externalDelta, rssDeltaBytes: rssDelta,
    };
    log(`  server memory for ${tokens.length} open channels: heap +${(heapDelta / 2 ** 20).toFixed(1)} MiB, external +${(externalDelta / 2 ** 20).toFixed(1)} MiB, ` +
      `rss +${(rssDelta / 2 ** 20).toFixed(1)} MiB → ${memory.bytesPerChannel} bytes/channel (heap+external), ${memory.rssBytesPerChannel} bytes/channel (rss)`);

    // 1,000 users spread over the 5,000 log out from client 1; the event is awaited on client 2.
    const step = Math.floor(users.length / LOGOUTS);
    const chosen = Array.from({ length: LOGOUTS }, (_, k) => k * step);
    const responseAt = new Map<number, number>();
    const requestAt = new Map<number, number>();
    const responseMs: number[] = [];
    const logoutAgent = new Agent({ keepAlive: true, maxSockets: LOGOUT_CONCURRENCY });
    await pool(chosen, LOGOUT_CONCURRENCY, async (u) => {
      const sentAt = performance.now();
      requestAt.set(u, sentAt);
      const res = await call(logoutAgent, 'DELETE', url + '/api/v2/tokens/me', tokens[2 * u]!);
      if (res.status !== 204) throw new Error(`logout answered ${res.status}: ${res.body}`);
      responseAt.set(u, res.doneAt);
      responseMs.push(res.doneAt - sentAt);
    });
    logoutAgent.destroy();
    const deadline = performance.now() + 10_000;
    while (chosen.some((u) => Number.isNaN(revokedAt[2 * u + 1]!)) && performance.now() < deadline) await sleep(20);
    await sleep(200); // late closes and any stray events

    const latencies: number[] = [];
    const endToEnd: number[] = [];
    let missing = 0;
    let closedWith4001 = 0;
    for (const u of chosen) {
      const at = revokedAt[2 * u + 1]!;
      if (Number.isNaN(at)) missing++;
      else latencies.push(at - responseAt.get(u)!), endToEnd.push(at - requestAt.get(u)!);
      if (closeCodes[2 * u + 1] === 4001 && closeCodes[2 * u] === 4001) closedWith4001++;
    }
    const chosenSet = new Set(chosen);
    let strayEvents = 0; // token_revoked on a channel of a user who did not log out
    for (let i = 0; i < tokens.length; i++) if (!chosenSet.has(i >> 1)) strayEvents += revokedEvents[i]!;

    latencies.sort((x, y) => x - y);
    const clamped = latencies.map((x) => Math.max(0, x));
    responseMs.sort((x, y) => x - y);
    endToEnd.sort((x, y) => x - y);
    let final = await serverMemory(child);
    for (const giveUp = performance.now() + 5000; final.backchannelLogouts < chosen.length && performance.now() < giveUp; final = await serverMemory(child)) await sleep(250);
    const result: FanoutResult = {
      users: users.length, channels: tokens.length, logouts: chosen.length, logoutConcurrency: LOGOUT_CONCURRENCY,
      latencyMs: {
        p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1)!), min: round(latencies[0]!),
        negative: latencies.filter((x) => x < 0).length,
      },
      latencyClampedMs: { p50: round(percentile(clamped, 50)), p99: round(percentile(clamped, 99)), max: round(clamped.at(-1)!) },
      requestToEventMs: { p50: round(percentile(endToEnd, 50)), p99: round(percentile(endToEnd, 99)), max: round(endToEnd.at(-1)!) },
      logoutResponseMs: { p50: round(percentile(responseMs, 50)), p99: round(percentile(responseMs, 99)) },
      backchannelLogouts: final.backchannelLogouts,
      missing, closedWith4001, strayEvents, memory,
      target: { ...TARGET, met: false },
      setupMs: { server: Math.round(setupServer), channels: Math.round(setupChannels), sockets: Math.round(setupSockets) },
    };
    result.target.met = missing === 0 && result.latencyClampedMs.p99 <= TARGET.p99Ms && memory.bytesPerChannel <= TARGET.bytesPerChannel;
    log(`  ${chosen.length} logouts (${LOGOUT_CONCURRENCY} at a time; response p50 ${result.logoutResponseMs.p50} ms, p99 ${result.logoutResponseMs.p99} ms): ` +
      `${latencies.length} events on the other client, ${missing} missing, ${closedWith4001} users with both sockets closed 4001, ${strayEvents} stray events`);
    log(`  response → other client's token_revoked, as measured: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms, ` +
      `min ${result.latencyMs.min} ms (${result.latencyMs.negative} events beat the response)`);
    log(`  for context, logout request sent → other client's token_revoked: p50 ${result.requestToEventMs.p50} ms, p99 ${result.requestToEventMs.p99} ms, ` +
      `max ${result.requestToEventMs.max} ms; ${result.backchannelLogouts} back-channel logouts delivered to crm-backend's receiver`);
    log(`  clamped at 0: p50 ${result.latencyClampedMs.p50} ms, p99 ${result.latencyClampedMs.p99} ms, max ${result.latencyClampedMs.max} ms`);
    log(`  target p99 <= ${TARGET.p99Ms} ms and <= ${TARGET.bytesPerChannel} bytes/channel: ${result.target.met ? 'met' : 'NOT met'}`);
    return result;
  } finally {
    for (const ws of sockets) ws?.terminate();
    child.disconnect();
    await Promise.race([once(child, 'exit'), sleep(5000)]);
    if (child.exitCode == null) child.kill();
  }
}
