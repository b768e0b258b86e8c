import { randomBytes } from 'node:crypto';
import { newId } from '../src/core/ids.ts';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { pino } from 'pino';
import { createAuthority } from '../src/authority/authority.ts';
import type { TokenLedger } from '../src/authority/ledger.ts';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { configFromEnv } from '../src/config.ts';
import { systemClock } from '../src/core/clock.ts';
import { DEFAULT_ORG_SETTINGS, type AccessToken } from '../src/core/records.ts';
import { sha256 } from '../src/core/secrets.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { accessTokenColumns } from '../src/store/postgres/rows.ts';
import { insertMany } from '../src/store/postgres/sql.ts';
import { percentile, sleep } from './cluster-kit.ts';

export interface ClusterExpirerResult {
  /** Tokens tracked by the node (and in the store) when the expirer starts. */
  tokens: number;
  /** Of those, the ones whose idle deadlines fall in the window; the rest idle out an hour later. */
  due: number;
  timeoutSeconds: number;
  /** The due tokens' deadlines are spread evenly over this window. */
  spreadSeconds: number;
  seed: { ms: number; rowsPerSec: number };
  expired: number;
  /** Due tokens a second, from the first deadline to the last expiry. */
  expiriesPerSec: number;
  latenessMs: { p50: number; p99: number; max: number };
  /** Heap growth (after a full GC) from tracking the tokens that idle out later, per token. */
  bytesPerToken: number;
  target: { p99Ms: number; met: boolean };
}

const TRACKED = Number(process.env.LOCKSTEP_BENCH_CLUSTER_TOKENS ?? 1_000_000);
/** 100,000 deadlines over 10 s: the 10,000 expiries a second of bench/idle-expirer.ts, with ten times the tokens tracked. */
const DUE = Math.min(TRACKED, 100_000);
const SPREAD_MS = 10_000;
const TIMEOUT_SECONDS = 5;
const LATER_TIMEOUT_SECONDS = 3600;
const BATCH = 10_000;
const LEAD_MS = 5_000;
const TARGET_P99_MS = 1000;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

const idleOrg = (seconds: number) => ({ ...DEFAULT_ORG_SETTINGS, idle: { ...DEFAULT_ORG_SETTINGS.idle, enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: seconds } });

/**
 * TRACKED tokens written to PostgreSQL (multi-row inserts of 10,000) and tracked by a cluster node in this
 * process (PostgresStore, RedisBus on the run's channel, ClusterMembership holding a lease). DUE of them have a
 * 5 s idle timeout and deadlines spread over 10 s; the rest an hour's. Once all are tracked, the real expirer with
 * the real clock ends the due ones; lateness = ended and announced − deadline.
 */
export async function clusterExpirer(log: (s: string) => void, opts: { databaseUrl: string; redisUrl: string; channel: string }): Promise<ClusterExpirerResult> {
  const nodeId = `bench-expirer-${randomBytes(3).toString('hex')}`;
  const store = await PostgresStore.open(opts.databaseUrl);
  const seedPool = new pg.Pool({ connectionString: opts.databaseUrl, max: 2 });
  let bus: RedisBus | null = null;
  try {
    bus = await RedisBus.connect(opts.redisUrl, { nodeId, channel: opts.channel });
    await store.createOrg({ id: 'bench', name: 'Bench', createdAt: Date.now() }, idleOrg(TIMEOUT_SECONDS));
    await store.createOrg({ id: 'bench-later', name: 'Bench (later)', createdAt: Date.now() }, idleOrg(LATER_TIMEOUT_SECONDS));
    const authority = await createAuthority({
      config: configFromEnv({ LOCKSTEP_DATA_DIR: tmpdir(), LOCKSTEP_DATABASE_URL: opts.databaseUrl, LOCKSTEP_REDIS_URL: opts.redisUrl }),
      store, bus, clock: systemClock, log: pino({ level: 'warn' }), issuer: () => 'http://bench', nodeId,
    });
    await authority.membership.start();
    try {
      return await measure(log, authority.ledger, seedPool);
    } finally {
      await authority.ledger.stop();
      await authority.membership.stop();
    }
  } finally {
    await bus?.close();
    await seedPool.end();
    await store.close();
  }
}

function token(i: number, orgId: string, lastActivityAt: number, timeoutSeconds: number, issuedAt: number): AccessToken {
  return {
    id: newId(), hash: sha256(randomBytes(32).toString('base64url')), orgId, userId: `${orgId}-user-${i % 50_000}`,
    clientId: i % 2 ? 'agent-desktop' : 'crm-embedded', sessionId: null, grantId: newId(), scope: 'openid',
    issuedAt, expiresAt: issuedAt + 86_400_000, lastActivityAt, idleDeadlineAt: lastActivityAt + timeoutSeconds * 1000, revokedAt: null, revokeReason: null,
  };
}

async function measure(log: (s: string) => void, ledger: TokenLedger, seedPool: pg.Pool): Promise<ClusterExpirerResult> {
  const seedStart = Date.now();
  log(`  seeding ${TRACKED} tokens in batches of ${BATCH}: ${TRACKED - DUE} idle out in an hour, then ${DUE} due over ${SPREAD_MS / 1000} s`);
  const before = heapUsed();
  const inFlight: Promise<void>[] = [];
  const seedBatch = async (records: AccessToken[]) => {
    const insert = insertMany(seedPool, 'access_tokens', records.map(accessTokenColumns));
    insert.catch(() => {}); // awaited below; an early failure must not crash the process before the cleanup
    inFlight.push(insert);
    for (const r of records) await ledger.track(r); // the stored deadline agrees, so nothing is queued for write-back
    if (inFlight.length >= 2) await inFlight.shift();
  };
  const progress = (n: number) => n % 100_000 === 0 && log(`    ${n} / ${TRACKED} seeded and tracked (${((Date.now() - seedStart) / 1000).toFixed(1)} s)`);

  for (let b = 0; b < TRACKED - DUE; b += BATCH) {
    const n = Math.min(BATCH, TRACKED - DUE - b);
    await seedBatch(Array.from({ length: n }, (_, k) => token(b + k, 'bench-later', seedStart, LATER_TIMEOUT_SECONDS, seedStart)));
    progress(b + n);
  }
  await Promise.all(inFlight.splice(0));
  const rate = TRACKED > DUE ? (TRACKED - DUE) / ((Date.now() - seedStart) / 1000) : 5000;
  // Measured here, before the due tokens' deadlines are placed: a full GC of this heap takes seconds.
  const bytesPerToken = TRACKED > DUE ? Math.round((heapUsed() - before) / (TRACKED - DUE)) : NaN;
  // The due tokens go last, their deadlines placed after the time the rate so far says they take to seed.
  const firstDeadline = Date.now() + Math.round((DUE / rate) * 1500) + LEAD_MS;
  for (let b = 0; b < DUE; b += BATCH) {
    const n = Math.min(BATCH, DUE - b);
    await seedBatch(Array.from({ length: n }, (_, k) => {
      const deadline = firstDeadline + Math.floor(((b + k) / DUE) * SPREAD_MS);
      return token(b + k, 'bench', deadline - TIMEOUT_SECONDS * 1000, TIMEOUT_SECONDS, seedStart);
    }));
    progress(TRACKED - DUE + b + n);
  }
  await Promise.all(inFlight);
  const seedMs = Date.now() - seedStart;
  log(`  ${ledger.trackedCount} tokens in PostgreSQL and tracked in ${(seedMs / 1000).toFixed(1)} s (${Math.round(TRACKED / (seedMs / 1000))} rows/s), ` +
    `${bytesPerToken} bytes of heap each; first deadline in ${firstDeadline - Date.now()} ms`);
  if (firstDeadline - Date.now() < 200) throw new Error(`the last ${DUE} tokens took longer to seed than planned: their first deadline passed before the expirer started`);

  // Lateness runs to when the token is ended in the store and announced (this callback), not to the sweep's start
  // (the callback's noticedAt): a sweep with a backlog of due tokens takes seconds to work through it.
  const lateness = new Float64Array(DUE);
  let expired = 0;
  let lastEndedAt = 0;
  ledger.onExpired = (_t, deadline) => {
    lastEndedAt = Date.now();
    if (expired < DUE) lateness[expired] = lastEndedAt - deadline;
    expired++;
  };
  ledger.start();
  const giveUp = firstDeadline + SPREAD_MS + 180_000;
  let nextReport = Date.now() + 10_000;
  while (expired < DUE && Date.now() < giveUp) {
    await sleep(250);
    if (Date.now() >= nextReport) {
      nextReport += 10_000;
      const due = Math.max(0, Math.min(DUE, Math.floor(((Date.now() - firstDeadline) / SPREAD_MS) * DUE)));
      log(`    ${expired} expired, ${due} due by now; latest lateness ${expired ? Math.round(lateness[Math.min(expired, DUE) - 1]!) : '-'} ms`);
    }
  }
  if (expired < DUE) throw new Error(`only ${expired} of ${DUE} due tokens expired within 180 s of the last deadline`);
  if (expired > DUE) throw new Error(`${expired} tokens expired, only ${DUE} were due`);

  lateness.sort();
  const result: ClusterExpirerResult = {
    tokens: TRACKED, due: DUE, timeoutSeconds: TIMEOUT_SECONDS, spreadSeconds: SPREAD_MS / 1000,
    seed: { ms: seedMs, rowsPerSec: Math.round(TRACKED / (seedMs / 1000)) }, expired,
    expiriesPerSec: Math.round(DUE / (Math.max(1, lastEndedAt - firstDeadline) / 1000)),
    latenessMs: { p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: lateness[DUE - 1]! },
    bytesPerToken, target: { p99Ms: TARGET_P99_MS, met: false },
  };
  result.target.met = result.latenessMs.p99 <= TARGET_P99_MS;
  log(`  expirer lateness (${TRACKED} tracked, ${DUE} due over ${SPREAD_MS / 1000} s): p50 ${result.latenessMs.p50} ms, p99 ${result.latenessMs.p99} ms, ` +
    `max ${result.latenessMs.max} ms; ${result.expiriesPerSec} expiries/s; target p99 <= ${TARGET_P99_MS} ms: ${result.target.met ? 'met' : 'NOT met'}`);
  return result;
}
