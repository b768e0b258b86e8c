#!/usr/bin/env node
// The production build: the server's TypeScript transpiled file by file to dist/ (ESM, the layout of src/,
// relative imports ending in .js), and the browser bundles (SDK, console, demos) prebuilt under dist/web/bundles/.
// `lockstep start` runs it first when dist/ is missing or older than the sources (see isStale).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(PACKAGE, 'dist');
const SRC = join(PACKAGE, 'src');
/** Browser code is bundled, not transpiled: it runs in the page, not in Node. */
const BROWSER_SRC = join(SRC, 'web', 'browser');
/** Everything the output is made of: a change to any of these makes the build stale. */
const INPUTS = [SRC, join(PACKAGE, '..', 'client', 'src'), fileURLToPath(import.meta.url)];
const STAMP = '.build.json';
const LOCK_STALE_MS = 120_000;

function walk(path, out = []) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return out;
  if (!stat.isDirectory()) {
    out.push({ path, stat });
    return out;
  }
  for (const name of readdirSync(path)) walk(join(path, name), out);
  return out;
}

/** Names, sizes and modification times of every input: a file added, removed, renamed or edited changes it. */
export function fingerprint() {
  const hash = createHash('sha256');
  for (const { path, stat } of INPUTS.flatMap((p) => walk(p)).sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${relative(PACKAGE, path)}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** Why `outDir` must be built again, or null when it is up to date. */
export function isStale(outDir = DIST) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(outDir, STAMP), 'utf8'));
  } catch {
    const name = relative(process.cwd(), outDir) || outDir;
    return existsSync(outDir) ? `${name} has no build stamp` : `${name} is missing`;
  }
  return stamp.fingerprint === fingerprint() ? null : 'the sources changed since the last build';
}

/** Relative imports keep their module but end in .js; packages stay imports of node_modules. */
const keepImports = {
  name: 'keep-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (!args.path.startsWith('.')) return { path: args.path, external: true };
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
  },
};

async function transpile(outDir) {
  const { build } = await import('esbuild');
  const entryPoints = walk(SRC).map((f) => f.path).filter((p) => p.endsWith('.ts') && !p.startsWith(BROWSER_SRC + '/'));
  await build({
    entryPoints, outdir: outDir, outbase: SRC, bundle: true, plugins: [keepImports],
    format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none',
  });
}

/** The bundles the server would otherwise build at start, made by the built assets module itself (one list of entries). */
async function prebundle(outDir) {
  const { bundleBrowserAssets, BUNDLE_DIR } = await import(pathToFileURL(join(outDir, 'web', 'assets.js')).href);
  for (const [path, body] of await bundleBrowserAssets()) {
    const file = join(outDir, 'web', BUNDLE_DIR, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
}

/**
 * Builds into a fresh directory next to `outDir`, then puts it in place: a process starting meanwhile
 * sees the old build or the new one, never half of one. The inputs' fingerprint is taken before building,
 * so a source edited during the build leaves the result stale.
 */
export async function build(outDir = DIST) {
  const print = fingerprint();
  const tmp = join(dirname(outDir), `.dist-build-${process.pid}-${Date.now()}`);
  try {
    await transpile(tmp);
    await prebundle(tmp);
    writeFileSync(join(tmp, STAMP), JSON.stringify({ fingerprint: print, builtAt: new Date().toISOString() }) + '\n');
    const old = join(dirname(outDir), `.dist-old-${process.pid}-${Date.now()}`);
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(tmp, outDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** One builder at a time (CLIs started together, tests): the others wait for it, then find the build fresh. */
async function withLock(outDir, fn) {
  const lock = join(dirname(outDir), '.dist-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true }); // its builder died
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds `outDir` when it is stale, saying so on stderr; answers whether it built. */
export async function ensureBuilt(outDir = DIST, say = (line) => process.stderr.write(line + '\n')) {
  const why = isStale(outDir);
  if (!why) return false;
  return withLock(outDir, async () => {
    if (!isStale(outDir)) return false; // another process built it while this one waited
    const t0 = Date.now();
    say(`lockstep: building ${relative(process.cwd(), outDir) || outDir} (${why}) …`);
    await build(outDir);
    say(`lockstep: built in ${Date.now() - t0} ms`);
    return true;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  await withLock(DIST, () => build(DIST));
  console.log(`built ${relative(process.cwd(), DIST) || DIST} in ${Date.now() - t0} ms`);
}
