// npm run soak [-- --minutes M --channels N --rate LOGOUTS_PER_S --warmup-seconds W]
//
// The server runs in a child process (bench/soak-server.ts) so its memory is its own. N notification channels
// are opened, each with its own user token and a WebSocket to its connectUri; then, for M minutes, a steady
// stream of logouts (DELETE /api/v2/tokens/me with a random channel's token) runs, each followed by a
// replacement token and channel, so N stay open. Every logged-out token's channel must receive
// v2.system.token_revoked and be closed with 4001; lost events = expected − received. Every 30 s it prints
// elapsed time, the server's RSS and heap (after a full GC), open channels, logouts and lost events. Exits
// non-zero if any event was lost or the server's heap (after GC) or its RSS outside V8's young generation (a bounded 8–32 MB that V8 resizes) grew more than 10 % from the end of the
// warm-up to the end, each end taken as the median of its first / last SAMPLES reports (one after-GC sample
// swings by ±10 % as V8 resizes its young generation and old-space pages; a leak moves the median, noise does not).
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { SoakMemory, SoakMinted, SoakReady, SoakRequest } from './soak-server.ts';
import { LIFETIMES } from '../src/core/lifetimes.ts';
import { pool } from './bench-kit.ts';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    channels: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '20' },
    'warmup-seconds': { type: 'string' },
    'report-seconds': { type: 'string', default: '15' },
    addresses: { type: 'string', default: '4' },
  },
});
const MINUTES = Number(opts.minutes);
const CHANNELS = Number(opts.channels);
const RATE = Number(opts.rate);
const DURATION_MS = MINUTES * 60_000;
/** Memory is compared from here on: channels open, the first logouts and replacements done, caches warm. */
// By default past the time a revoked token stays in the server's memory: until then the cache of revoked tokens fills, by design.
const WARMUP_MS = opts['warmup-seconds'] != null ? Number(opts['warmup-seconds']) * 1000
  : Math.min(LIFETIMES.revokedTokenInMemoryMs + 30_000, DURATION_MS / 2);
const REPORT_MS = Number(opts['report-seconds']) * 1000;
/** A logged-out channel must have its event and its 4001 close within this long after the logout answered. */
const EVENT_DEADLINE_MS = 10_000;
/** Sockets come from 127.0.0.2 … 127.0.0.(1+ADDRESSES), spreading them over several ephemeral port ranges. */
const ADDRESSES = Math.max(1, Number(opts.addresses));
const MAX_GROWTH = 0.1;
const SAMPLES = 4;

const log = (s: string) => console.log(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const pct = (from: number, to: number) => ((to - from) / from) * 100;

// ------------------------------------------------------------------------------------------------
// The server child and its IPC.
// ------------------------------------------------------------------------------------------------

const t0 = performance.now();
const child = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), {
  execArgv: ['--expose-gc', ...(process.env.SOAK_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []), '--import', 'tsx'], stdio: 'inherit', env: { ...process.env, SOAK_USERS: String(CHANNELS) },
});
let nextId = 1;
const pending = new Map<number, (m: SoakMinted | SoakMemory) => void>();
const ready = new Promise<SoakReady>((resolve, reject) => {
  child.on('message', (m: SoakReady | SoakMinted | SoakMemory) => {
    if (m.type === 'ready') return resolve(m);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  child.on('exit', (code) => reject(new Error(`the server process exited (${code})`)));
});
function ask<T extends SoakMinted | SoakMemory>(m: Omit<SoakRequest, 'id'> & Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve as (m: SoakMinted | SoakMemory) => void);
    child.send({ ...m, id });
  });
}
const memory = () => ask<SoakMemory>({ type: 'memory' });
let childExited = false;
child.on('exit', () => (childExited = true));

// ------------------------------------------------------------------------------------------------
// HTTP and channels.
// ------------------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 32 });
function call(method: string, url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { authorization: `Bearer ${token}`, 'content-length': '0' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Chan {
  token: string;
  id: string;
  ws: WebSocket;
  state: 'opening' | 'open' | 'logging-out' | 'settled';
  revokedEvents: number;
  closeCode: number | null;
}

const stats = {
  opened: 0, logouts: 0, logoutFailures: 0, eventsExpected: 0, eventsReceived: 0, lost: 0, notClosed4001: 0,
  strayEvents: 0, unexpectedCloses: 0, openFailures: 0, replacements: 0,
};
const open = new Set<Chan>();
/** Open channels, indexable for a random pick (swap-remove). */
const openList: Chan[] = [];
const openIndex = new Map<Chan, number>();
const addOpen = (c: Chan) => {
  openIndex.set(c, openList.length);
  openList.push(c);
  open.add(c);
};
const removeOpen = (c: Chan) => {
  const i = openIndex.get(c);
  if (i === undefined) return;
  const last = openList.pop()!;
  if (last !== c) {
    openList[i] = last;
    openIndex.set(last, i);
  }
  openIndex.delete(c);
  open.delete(c);
};
let socketSerial = 0;
const localAddress = () => `127.0.0.${2 + (socketSerial++ % ADDRESSES)}`;

let url = '';
/** A channel for `token` (POST /api/v2/notifications/channels) and its WebSocket, open. */
async function openChannel(token: string): Promise<Chan> {
  const res = await call('POST', `${url}/api/v2/notifications/channels`, token);
  if (res.status !== 200) throw new Error(`creating a channel answered ${res.status}: ${res.body.slice(0, 200)}`);
  const { id, connectUri } = JSON.parse(res.body) as { id: string; connectUri: string };
  const ws = new WebSocket(connectUri, { perMessageDeflate: false, localAddress: localAddress() });
  const c: Chan = { token, id, ws, state: 'opening', revokedEvents: 0, closeCode: null };
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { topicName?: string };
    if (m.topicName !== 'v2.system.token_revoked') return;
    if (c.state === 'logging-out') {
      c.revokedEvents++;
      if (c.revokedEvents === 1) stats.eventsReceived++;
    } else stats.strayEvents++;
  });
  ws.on('close', (code) => {
    c.closeCode = code;
    if (c.state !== 'logging-out' && c.state !== 'settled') {
      stats.unexpectedCloses++;
      if (stats.unexpectedCloses <= 5) log(`  unexpected close of channel ${c.id}: ${code}`);
      removeOpen(c);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  c.state = 'open';
  stats.opened++;
  addOpen(c);
  return c;
}

// ------------------------------------------------------------------------------------------------
// Replacement tokens, minted by the server process in batches.
// ------------------------------------------------------------------------------------------------

const spare: string[] = [];
let minting: Promise<void> | null = null;
async function spareToken(): Promise<string> {
  while (!spare.length) await (minting ??= ask<SoakMinted>({ type: 'mint', count: 500 }).then((m) => void spare.push(...m.tokens)).finally(() => (minting = null)));
  if (spare.length < 100) minting ??= ask<SoakMinted>({ type: 'mint', count: 500 }).then((m) => void spare.push(...m.tokens)).finally(() => (minting = null));
  return spare.pop()!;
}

// ------------------------------------------------------------------------------------------------
// One logout: the event and the 4001 close must follow; then a replacement channel.
// ------------------------------------------------------------------------------------------------

const checks = new Set<Promise<void>>();
async function logoutOne(): Promise<void> {
  if (!openList.length) return;
  const c = openList[Math.floor(Math.random() * openList.length)]!;
  removeOpen(c);
  c.state = 'logging-out';
  let res: { status: number; body: string };
  try {
    res = await call('DELETE', `${url}/api/v2/tokens/me`, c.token);
  } catch (err) {
    res = { status: 0, body: (err as Error).message };
  }
  stats.logouts++;
  if (res.status !== 204) {
    stats.logoutFailures++;
    if (stats.logoutFailures <= 5) log(`  logout answered ${res.status}: ${res.body.slice(0, 200)}`);
  } else {
    stats.eventsExpected++;
    const check = (async () => {
      const deadline = performance.now() + EVENT_DEADLINE_MS;
      while ((c.revokedEvents === 0 || c.closeCode === null) && performance.now() < deadline) await sleep(100);
      if (c.revokedEvents === 0) stats.lost++;
      if (c.closeCode !== 4001) {
        stats.notClosed4001++;
        if (stats.notClosed4001 <= 5) log(`  channel ${c.id} of a logged-out token: close code ${c.closeCode ?? 'none (still open)'}`);
      }
      c.state = 'settled';
      if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
    })();
    checks.add(check);
    void check.finally(() => checks.delete(check));
  }
  try {
    await openChannel(await spareToken());
    stats.replacements++;
  } catch (err) {
    stats.openFailures++;
    if (stats.openFailures <= 5) log(`  replacement channel failed: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------
// The run.
// ------------------------------------------------------------------------------------------------

const { url: serverUrl, tokens } = await ready;
url = serverUrl;
log(`lockstep soak: server ${url} (child pid ${child.pid}), ${tokens.length} users with a token each seeded in ${Math.round(performance.now() - t0)} ms; ` +
  `${MINUTES} min of logouts at ${RATE}/s, warm-up ${Math.round(WARMUP_MS / 1000)} s, sockets from ${ADDRESSES} loopback address(es)`);
await sleep(1000);
const empty = await memory();
const t1 = performance.now();
await pool(tokens, 64, async (token) => {
  try {
    await openChannel(token);
  } catch (err) {
    stats.openFailures++;
    if (stats.openFailures <= 5) log(`  opening a channel failed: ${(err as Error).message}`);
  }
});
const full = await memory();
log(`${open.size} channels open in ${((performance.now() - t1) / 1000).toFixed(1)} s (server: ${full.channels} channels); server memory empty → full: ` +
  `rss ${mb(empty.usage.rss)} → ${mb(full.usage.rss)}, heap ${mb(empty.usage.heapUsed)} → ${mb(full.usage.heapUsed)}`);

const start = performance.now();
const elapsedS = () => (performance.now() - start) / 1000;
let warm: SoakMemory | null = null;
const samples: { at: number; m: SoakMemory }[] = [];
async function report(label = '') {
  const m = await memory();
  samples.push({ at: elapsedS(), m });
  log(`[${elapsedS().toFixed(0).padStart(5)} s] rss ${mb(m.usage.rss).padStart(9)} (before GC ${mb(m.rssBeforeGc)}), heap ${mb(m.usage.heapUsed).padStart(8)} of ${mb(m.usage.heapTotal)} (+external ${mb(m.usage.external)})${m.residentKb ? `, anon ${mb(m.residentKb.anonymous * 1024)} + file ${mb(m.residentKb.file * 1024)}` : ''}, ` +
    `open channels ${open.size} (server ${m.channels}, live tokens ${m.liveTokens}), logouts ${stats.logouts}, events received ${stats.eventsReceived}/${stats.eventsExpected}, ` +
    `lost ${stats.lost}${label ? `  ${label}` : ''}`);
  if (process.env.SOAK_SPACES) log('        ' + Object.keys(m.heapSpaces).filter((k) => m.heapSpaces[k]! > 1 << 20).map((k) => `${k} ${mb(m.heapSpacesUsed[k]!)}/${mb(m.heapSpaces[k]!)}`).join(', '));
  return m;
}

const warmupTimer = setTimeout(async () => {
  warm = await report('(end of warm-up: memory baseline)');
}, WARMUP_MS);
const reportTimer = setInterval(() => void report(), REPORT_MS);

// Logouts at RATE/s, each in flight on its own (a slow one does not hold back the stream), at most 64 at once.
let inFlight = 0;
let due = 0;
let last = performance.now();
while (performance.now() - start < DURATION_MS && !childExited) {
  await sleep(20);
  const now = performance.now();
  due += ((now - last) / 1000) * RATE;
  last = now;
  while (due >= 1 && inFlight < 64) {
    due--;
    inFlight++;
    void logoutOne().finally(() => inFlight--);
  }
}
clearInterval(reportTimer);
clearTimeout(warmupTimer);
while (inFlight > 0) await sleep(50);
await Promise.all([...checks]);
await report('(end)');
warm ??= samples[0]!.m;
const afterWarmup = samples.filter((s) => s.m === warm || s.at >= WARMUP_MS / 1000).map((s) => s.m);
const median = (ms: SoakMemory[], pick: (m: SoakMemory) => number) => {
  const sorted = ms.map(pick).sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const n = Math.max(1, Math.min(SAMPLES, Math.floor(afterWarmup.length / 2)));
const [first, lastN] = [afterWarmup.slice(0, n), afterWarmup.slice(-n)];
const end = afterWarmup.at(-1)!;

for (const c of open) {
  c.state = 'settled';
  c.ws.terminate();
}
agent.destroy();
child.disconnect();

const [heapFrom, heapTo] = [median(first, (m) => m.usage.heapUsed), median(lastN, (m) => m.usage.heapUsed)];
const [rssFrom, rssTo] = [median(first, (m) => m.usage.rss), median(lastN, (m) => m.usage.rss)];
const heapGrowth = pct(heapFrom, heapTo);
const rssGrowth = pct(rssFrom, rssTo);
// V8 resizes its young generation (new space) with the allocation rate, between 8 and 32 MB committed here (its ceiling is
// the semi-space size, fixed at start), and the memory reducer shrinks it again: a bounded swing, not growth. Objects that
// survive two scavenges are promoted, so nothing accumulates there; what could grow is the rest, which is what is judged.
const outsideYoung = (m: SoakMemory) => m.usage.rss - (m.heapSpaces.new_space ?? 0);
const [restFrom, restTo] = [median(first, outsideYoung), median(lastN, outsideYoung)];
const restGrowth = pct(restFrom, restTo);
const lost = stats.eventsExpected - stats.eventsReceived;
log(`\nSoak finished: ${MINUTES} min, ${CHANNELS} channels, ${stats.logouts} logouts (${stats.logoutFailures} failed), ${stats.replacements} replacement channels`);
log(`  server memory after warm-up → end (after full GC; median of the first ${n} and of the last ${n} of ${afterWarmup.length} reports):`);
log(`    heap used  ${mb(heapFrom)} → ${mb(heapTo)}  (${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} %)`);
log(`    rss        ${mb(rssFrom)} → ${mb(rssTo)}  (${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} %); single samples ${mb(warm.usage.rss)} → ${mb(end.usage.rss)}`);
log(`    rss outside the young generation  ${mb(restFrom)} → ${mb(restTo)}  (${restGrowth >= 0 ? '+' : ''}${restGrowth.toFixed(1)} %); ` +
  `young generation committed ${mb(warm.heapSpaces.new_space ?? 0)} → ${mb(end.heapSpaces.new_space ?? 0)}`);
const seen = afterWarmup.map((m) => m.rssBeforeGc);
log(`    rss before the sampler's GC (what an operator sees), after warm-up: ${mb(Math.min(...seen))} – ${mb(Math.max(...seen))}`);
log(`    external   ${mb(warm.usage.external)} → ${mb(end.usage.external)}`);
log(`    V8 heap committed, by space: ${Object.keys(end.heapSpaces).map((k) => `${k} ${mb(warm!.heapSpaces[k] ?? 0)} → ${mb(end.heapSpaces[k]!)}`).join(', ')}`);
log(`  token_revoked events: expected ${stats.eventsExpected}, received ${stats.eventsReceived}, lost ${lost}`);
log(`  logged-out channels not closed with 4001: ${stats.notClosed4001}; stray token_revoked on other channels: ${stats.strayEvents}; ` +
  `unexpected closes: ${stats.unexpectedCloses}; channel open failures: ${stats.openFailures}`);
const failures = [
  lost > 0 && `${lost} token_revoked events lost`,
  stats.notClosed4001 > 0 && `${stats.notClosed4001} logged-out channels not closed with 4001`,
  stats.logoutFailures > 0 && `${stats.logoutFailures} logouts failed`,
  heapGrowth > MAX_GROWTH * 100 && `heap grew ${heapGrowth.toFixed(1)} % after warm-up`,
  restGrowth > MAX_GROWTH * 100 && `rss outside the young generation grew ${restGrowth.toFixed(1)} % after warm-up`,
  childExited && 'the server process exited during the run',
].filter(Boolean);
log(`\n${failures.length ? `FAIL: ${failures.join('; ')}` : 'PASS: no event lost, memory within 10 % of the warm-up'}`);
process.exit(failures.length ? 1 : 0);
