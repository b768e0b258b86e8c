import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { pool } from './bench-kit.ts';
import { call, mib, sleep, summary, type BenchNode } from './cluster-kit.ts';
import type { NodeMemory, NodeSeeded } from './cluster-node.ts';

export interface LogoutRound {
  logouts: number;
  concurrency: number;
  logoutsPerSec: number;
  /** t(token_revoked on B, on the other client's channel) − t(DELETE /api/v2/tokens/me sent to A). */
  requestToEventMs: { p50: number; p99: number; max: number };
  /** The same for the logged-out token's own channel on B. */
  ownChannelRequestToEventMs: { p50: number; p99: number; max: number };
  /** The logout's own response time on A (it returns once B has applied the cluster log). */
  logoutResponseMs: { p50: number; p99: number; max: number };
  missing: number;
}

export interface CrossNodeLogoutResult {
  users: number;
  channelsOnB: number;
  /** LOGOUTS users, 8 at a time: the measure. */
  main: LogoutRound;
  /** SERIAL_LOGOUTS other users one at a time: what a logout costs without queueing behind others. */
  serial: LogoutRound;
  strayEvents: number;
  memory: Record<'a' | 'b', { rssMiB: number; heapUsedMiB: number; externalMiB: number; channels: number; trackedTokens: number }>;
  /** Node B before its channels opened, for comparison. */
  bBeforeChannels: { rssMiB: number; heapUsedMiB: number };
  target: { p99Ms: number; met: boolean };
  setupMs: { channels: number; sockets: number };
}

const LOGOUTS = 500;
const LOGOUT_CONCURRENCY = 8;
const SERIAL_LOGOUTS = 100;
const TARGET_P99_MS = 30;

const view = (m: NodeMemory) => ({
  rssMiB: mib(m.usage.rss), heapUsedMiB: mib(m.usage.heapUsed), externalMiB: mib(m.usage.external), channels: m.channels, trackedTokens: m.trackedTokens,
});

/** When each channel's socket first heard token_revoked (NaN: not yet), and how many times. */
interface Channels {
  sockets: WebSocket[];
  revokedAt: Float64Array;
  revokedEvents: Uint16Array;
  setupMs: { channels: number; sockets: number };
}

/** A channel per token through node B's API, and a WebSocket to B for each. */
async function openChannels(b: BenchNode, tokens: string[]): Promise<Channels> {
  const t1 = performance.now();
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const paths: string[] = new Array(tokens.length);
  await pool(tokens, 32, async (token, i) => {
    const res = await call(agent, 'POST', b.url + '/api/v2/notifications/channels', token);
    if (res.status !== 200) throw new Error(`creating a channel on B answered ${res.status}: ${res.body}`);
    // The connect URI names the shared issuer (node A's address); the socket must be on B, so B's address is used.
    paths[i] = new URL((JSON.parse(res.body) as { connectUri: string }).connectUri).pathname;
  });
  agent.destroy();
  const t2 = performance.now();
  const c: Channels = {
    sockets: [], revokedAt: new Float64Array(tokens.length).fill(NaN), revokedEvents: new Uint16Array(tokens.length),
    setupMs: { channels: Math.round(t2 - t1), sockets: 0 },
  };
  const wsBase = b.url.replace(/^http/, 'ws');
  await pool(paths, 200, async (path, i) => {
    const ws = new WebSocket(wsBase + path, { perMessageDeflate: false });
    c.sockets[i] = ws;
    ws.on('message', (data) => {
      const at = performance.now();
      if ((JSON.parse(String(data)) as { topicName: string }).topicName !== 'v2.system.token_revoked') return;
      if (Number.isNaN(c.revokedAt[i]!)) c.revokedAt[i] = at;
      c.revokedEvents[i]!++;
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  });
  c.setupMs.sockets = Math.round(performance.now() - t2);
  return c;
}

/** The chosen users log out on node A with their agent-desktop token (2u), `concurrency` at a time; their channels on B are watched. */
async function logoutRound(log: (s: string) => void, a: BenchNode, tokens: string[], c: Channels, chosen: number[], concurrency: number): Promise<LogoutRound> {
  const sentAt = new Map<number, number>();
  const responseMs: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const started = performance.now();
  let done = 0;
  await pool(chosen, concurrency, async (u) => {
    const at = performance.now();
    sentAt.set(u, at);
    const res = await call(agent, 'DELETE', a.url + '/api/v2/tokens/me', tokens[2 * u]!);
    if (res.status !== 204) throw new Error(`logout on A answered ${res.status}: ${res.body}`);
    responseMs.push(res.doneAt - at);
    if (++done % 100 === 0) log(`    ${done} / ${chosen.length} logouts on A, ${concurrency} at a time`);
  });
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const heard = (i: number) => !Number.isNaN(c.revokedAt[i]!);
  for (const deadline = performance.now() + 10_000; chosen.some((u) => !heard(2 * u) || !heard(2 * u + 1)) && performance.now() < deadline; ) await sleep(20);

  const other: number[] = [];
  const own: number[] = [];
  let missing = 0;
  for (const u of chosen) {
    for (const [i, into] of [[2 * u + 1, other], [2 * u, own]] as const) {
      if (heard(i)) into.push(c.revokedAt[i]! - sentAt.get(u)!);
      else missing++;
    }
  }
  const r: LogoutRound = {
    logouts: chosen.length, concurrency, logoutsPerSec: Math.round(chosen.length / seconds),
    requestToEventMs: summary(other), ownChannelRequestToEventMs: summary(own), logoutResponseMs: summary(responseMs), missing,
  };
  log(`  ${r.logouts} logouts on A, ${concurrency} at a time (${r.logoutsPerSec}/s): response p50 ${r.logoutResponseMs.p50} ms, p99 ${r.logoutResponseMs.p99} ms; ` +
    `sent → other client's token_revoked on B p50 ${r.requestToEventMs.p50} ms, p99 ${r.requestToEventMs.p99} ms, max ${r.requestToEventMs.max} ms ` +
    `(own channel p50 ${r.ownChannelRequestToEventMs.p50} ms, p99 ${r.ownChannelRequestToEventMs.p99} ms); ${missing} events missing`);
  return r;
}

/**
 * Every seeded token gets a notification channel and a WebSocket on node B; LOGOUTS users (every 10th) log out
 * on node A, universal logout on, 8 at a time, then SERIAL_LOGOUTS others one at a time. Measured from the request
 * leaving this process to token_revoked arriving on B's sockets (the other client's and the token's own).
 * Node A has not seen these tokens before: each logout's token check reads the store first.
 */
export async function crossNodeLogout(log: (s: string) => void, a: BenchNode, b: BenchNode, seeded: NodeSeeded): Promise<CrossNodeLogoutResult> {
  const tokens = seeded.users.flatMap((u) => u.tokens); // token 2u = user u on agent-desktop, 2u+1 = on crm-embedded
  let channels: Channels | null = null;
  try {
    const before = await b.memory();
    channels = await openChannels(b, tokens);
    log(`  ${tokens.length} channels created on B in ${channels.setupMs.channels} ms, WebSockets to B connected in ${channels.setupMs.sockets} ms`);
    await sleep(1500); // activity write-back and socket setup settle
    const opened = await b.memory();
    if (opened.channels !== tokens.length) throw new Error(`node B holds ${opened.channels} channels, expected ${tokens.length}`);

    const mainUsers = Array.from({ length: LOGOUTS }, (_, k) => k * 10);
    const serialUsers = Array.from({ length: SERIAL_LOGOUTS }, (_, k) => k * 10 + 5);
    const main = await logoutRound(log, a, tokens, channels, mainUsers, LOGOUT_CONCURRENCY);
    const serial = await logoutRound(log, a, tokens, channels, serialUsers, 1);
    await sleep(300); // stray events
    const loggedOut = new Set([...mainUsers, ...serialUsers]);
    let strayEvents = 0; // token_revoked on a channel of a user who did not log out
    for (let i = 0; i < tokens.length; i++) if (!loggedOut.has(i >> 1)) strayEvents += channels.revokedEvents[i]!;

    const [memA, memB] = await Promise.all([a.memory(), b.memory()]);
    const result: CrossNodeLogoutResult = {
      users: seeded.users.length, channelsOnB: tokens.length, main, serial, strayEvents,
      memory: { a: view(memA), b: view(memB) },
      bBeforeChannels: { rssMiB: mib(before.usage.rss), heapUsedMiB: mib(before.usage.heapUsed) },
      target: { p99Ms: TARGET_P99_MS, met: main.missing + serial.missing === 0 && main.requestToEventMs.p99 <= TARGET_P99_MS },
      setupMs: channels.setupMs,
    };
    log(`  target p99 <= ${TARGET_P99_MS} ms (${LOGOUT_CONCURRENCY} at a time, other client's channel): ${result.target.met ? 'met' : 'NOT met'}; ${strayEvents} stray events`);
    for (const [name, m] of Object.entries(result.memory)) {
      log(`  node ${name.toUpperCase()} memory (after full GC): rss ${m.rssMiB} MiB, heap used ${m.heapUsedMiB} MiB, external ${m.externalMiB} MiB; ${m.channels} channels, ${m.trackedTokens} tracked tokens`);
    }
    log(`  (node B before its channels opened: rss ${result.bBeforeChannels.rssMiB} MiB, heap used ${result.bBeforeChannels.heapUsedMiB} MiB)`);
    return result;
  } finally {
    for (const ws of channels?.sockets ?? []) ws?.terminate();
  }
}
