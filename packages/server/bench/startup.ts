// Startup: from spawning `lockstep start` to the first answer of GET /.well-known/openid-configuration, from
// the build (dist/, prebuilt bundles) and, in the same run, from the TypeScript sources through tsx (the old way).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, median } from './cluster-kit.ts';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BIN = join(ROOT, 'packages/server/bin/lockstep.js');
const SOURCES = join(ROOT, 'packages/server/src/cli/main.ts');
const BUILD_SCRIPT = join(ROOT, 'packages/server/scripts/build.mjs');
const TARGET_MS = 1000;
const GIVE_UP_MS = 60_000;

type Variant = 'dist, empty data dir' | 'dist, restart' | 'tsx sources, restart';

const commands: Record<Variant, string[]> = {
  'dist, empty data dir': [BIN, 'start'],
  'dist, restart': [BIN, 'start'],
  'tsx sources, restart': ['--import', 'tsx', SOURCES, 'start'],
};

function discoveryAnswers(port: number): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', timeout: 500 }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode === 200));
    });
    req.on('error', () => res(false)).on('timeout', () => req.destroy());
    req.end();
  });
}

/** The build script's own stale check (sources edited meanwhile by someone else): rebuilt quietly before a run from dist. */
const buildScript = (await import(pathToFileURL(BUILD_SCRIPT).href)) as { ensureBuilt(outDir?: string, say?: (line: string) => void): Promise<boolean> };

/** One run, again if the start had to build (the sources changed during the bench): building is not starting. */
async function once(variant: Variant, dataDir: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    if (variant.startsWith('dist')) await buildScript.ensureBuilt(undefined, () => {});
    const ms = await spawnToAnswer(variant, dataDir);
    if (ms != null) return ms;
    if (attempt === 3) throw new Error(`${variant}: every start rebuilt dist (the sources keep changing)`);
  }
}

/** Milliseconds from spawn to the first 200 from discovery (null: it built first); the process is stopped (SIGTERM) afterwards. */
async function spawnToAnswer(variant: Variant, dataDir: string): Promise<number | null> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_DEMO_CRM_PORT: 'off', LOG_LEVEL: 'warn' };
  const t0 = performance.now();
  const child = spawn(process.execPath, commands[variant], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    for (;;) {
      if (await discoveryAnswers(port)) return /lockstep: building/.test(stderr) ? null : performance.now() - t0;
      if (gone) throw new Error(`${variant}: exited before answering\n${stderr}`);
      if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`${variant}: no answer within ${GIVE_UP_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export interface StartupResult {
  buildMs: number;
  runs: number;
  targetMs: number;
  variants: Record<Variant, { medianMs: number; minMs: number; maxMs: number; samplesMs: number[] }>;
}

export async function startup(log: (s: string) => void, runs = 5): Promise<StartupResult> {
  const t0 = performance.now();
  const built = spawnSync(process.execPath, [BUILD_SCRIPT], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  const buildMs = Math.round(performance.now() - t0);
  log(`  build (transpile + browser bundles): ${buildMs} ms`);

  const samples: Record<Variant, number[]> = { 'dist, empty data dir': [], 'dist, restart': [], 'tsx sources, restart': [] };
  const seeded = mkdtempSync(join(tmpdir(), 'lockstep-bench-startup-'));
  try {
    await once('dist, empty data dir', seeded); // the restarts' store: demo seeded, signing key made
    // Interleaved, so a busy moment of the machine falls on every variant alike.
    for (let i = 0; i < runs; i++) {
      const fresh = mkdtempSync(join(tmpdir(), 'lockstep-bench-startup-'));
      try {
        samples['dist, empty data dir'].push(await once('dist, empty data dir', fresh));
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
      samples['dist, restart'].push(await once('dist, restart', seeded));
      samples['tsx sources, restart'].push(await once('tsx sources, restart', seeded));
    }
  } finally {
    rmSync(seeded, { recursive: true, force: true });
  }

  const variants = {} as StartupResult['variants'];
  for (const [variant, xs] of Object.entries(samples) as [Variant, number[]][]) {
    const v = { medianMs: Math.round(median(xs)), minMs: Math.round(Math.min(...xs)), maxMs: Math.round(Math.max(...xs)), samplesMs: xs.map(Math.round) };
    variants[variant] = v;
    log(`  ${variant.padEnd(22)} median ${v.medianMs} ms (min ${v.minMs}, max ${v.maxMs}, spread ${v.maxMs - v.minMs} ms; ${runs} runs)`);
  }
  log(`  target: first answer <= ${TARGET_MS} ms from the build`);
  return { buildMs, runs, targetMs: TARGET_MS, variants };
}

export function startupRows(r: StartupResult): string[] {
  return Object.entries(r.variants).map(([variant, v]) =>
    `| startup to first discovery answer, ${variant} (${r.runs} runs) | median ${v.medianMs} ms, min ${v.minMs} ms, max ${v.maxMs} ms${variant.startsWith('dist') ? ` (target <= ${r.targetMs} ms)` : ''} |`)
    .concat(`| build (npm run build: transpile + browser bundles) | ${r.buildMs} ms |`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await startup(console.log, Number(process.argv[2] ?? 5));
}
