import { randomBytes } from 'node:crypto';
import { newId } from '../src/core/ids.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createAuthority } from '../src/authority/authority.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { configFromEnv } from '../src/config.ts';
import { systemClock } from '../src/core/clock.ts';
import { sha256 } from '../src/core/secrets.ts';
import { DEFAULT_ORG_SETTINGS, type AccessToken } from '../src/core/records.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

export interface ExpirerResult {
  tokens: number;
  timeoutSeconds: number;
  latenessMs: { p50: number; p99: number; max: number };
  bytesPerToken: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function heapUsed(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * 100,000 live tokens with a 5 s idle timeout whose deadlines are spread over 10 s; the real
 * expirer with the real clock ends them all; lateness = when noticed − deadline.
 */
export async function idleExpirer(log: (s: string) => void, count = 100_000): Promise<ExpirerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-expirer-'));
  const store = new SqliteStore(join(dir, 'lockstep.sqlite'));
  const timeoutSeconds = 5;
  await store.createOrg({ id: 'bench', name: 'Bench', createdAt: Date.now() }, {
    ...DEFAULT_ORG_SETTINGS, idle: { ...DEFAULT_ORG_SETTINGS.idle, enableIdleTokenTimeout: true, idleTokenTimeoutSeconds: timeoutSeconds },
  });
  const authority = await createAuthority({
    config: configFromEnv({ LOCKSTEP_DATA_DIR: dir }), store, bus: new InProcessBus(), clock: systemClock,
    log: pino({ level: 'warn' }), issuer: () => 'http://bench',
  });

  const start = Date.now() + 8000; // deadlines from 8 s to 18 s from now, after the setup below
  const records: AccessToken[] = [];
  for (let i = 0; i < count; i++) {
    const lastActivityAt = start - timeoutSeconds * 1000 + Math.floor((i / count) * 10_000);
    records.push({
      id: newId(), hash: sha256(randomBytes(32).toString('base64url')), orgId: 'bench', userId: `user-${i % 50_000}`,
      clientId: i % 2 ? 'agent-desktop' : 'crm-embedded', sessionId: null, grantId: newId(), scope: 'openid',
      issuedAt: lastActivityAt, expiresAt: lastActivityAt + 86_400_000, lastActivityAt, revokedAt: null, revokeReason: null,
    });
  }
  store.db.transaction(() => records.forEach((r) => void store.saveAccessToken(r)))();

  const before = heapUsed();
  const addStart = Date.now();
  for (const r of records) await authority.ledger.track(r);
  log(`  tracking took ${Date.now() - addStart} ms; first deadline in ${start - Date.now()} ms`);
  const bytesPerToken = Math.round((heapUsed() - before) / count);
  log(`  ${count} tokens tracked, ${bytesPerToken} bytes each (cache entry + heap entry)`);

  const lateness: number[] = [];
  authority.ledger.onExpired = (_t, deadline, noticedAt) => lateness.push(noticedAt - deadline);
  authority.ledger.start();
  const giveUp = Date.now() + 60_000;
  while (lateness.length < count && Date.now() < giveUp) await sleep(250);
  await authority.ledger.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (lateness.length < count) throw new Error(`only ${lateness.length} of ${count} tokens expired within 60 s`);

  lateness.sort((x, y) => x - y);
  const result = { tokens: count, timeoutSeconds, latenessMs: { p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: lateness.at(-1)! }, bytesPerToken };
  log(`  expirer lateness: p50 ${result.latenessMs.p50} ms, p99 ${result.latenessMs.p99} ms, max ${result.latenessMs.max} ms`);
  return result;
}
