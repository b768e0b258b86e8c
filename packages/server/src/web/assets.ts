import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** packages/server/, from src/web/assets.ts and from its build dist/web/assets.js alike. */
const PACKAGE = new URL('../../', import.meta.url);
const fromPackage = (path: string) => fileURLToPath(new URL(path, PACKAGE));

/** Browser bundles by URL path, and the TypeScript entry each is bundled from. */
const ENTRIES: Record<string, string> = {
  '/sdk/lockstep.js': '../client/src/index.ts',
  '/admin/app.js': 'src/web/browser/admin/app.ts',
  '/demo/agent.js': 'src/web/browser/demo/agent.ts',
  '/demo/crm.js': 'src/web/browser/demo/crm.ts',
  '/demo/embedded.js': 'src/web/browser/demo/embedded.ts',
  '/demo/callback.js': 'src/web/browser/demo/callback.ts',
};

/** Where the build (scripts/build.mjs) writes the bundles, next to the built assets module: dist/web/bundles/<URL path>. */
export const BUNDLE_DIR = 'bundles';

export type Assets = Map<string, string>;

/** Bundles every entry from its TypeScript in memory (what the build writes to files). */
export async function bundleBrowserAssets(): Promise<Assets> {
  const { build } = await import('esbuild');
  const pairs = await Promise.all(Object.entries(ENTRIES).map(async ([path, entry]) => {
    const result = await build({
      entryPoints: [fromPackage(entry)], bundle: true, format: 'esm', target: 'es2022', platform: 'browser',
      minify: path === '/sdk/lockstep.js', write: false, logLevel: 'silent', legalComments: 'none',
    });
    return [path, result.outputFiles[0]!.text] as const;
  }));
  return new Map(pairs);
}

/** The build's bundle files; null when one is missing (a build without them, or an older one). */
async function readPrebuilt(): Promise<Assets | null> {
  try {
    const pairs = await Promise.all(Object.keys(ENTRIES).map(async (path) =>
      [path, await readFile(new URL(`./${BUNDLE_DIR}${path}`, import.meta.url), 'utf8')] as const));
    return new Map(pairs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Running the TypeScript sources (tests, benches, tsx): bundles are made from them, so they never go stale. */
const runningFromSources = import.meta.url.endsWith('.ts');

let loaded: Promise<Assets> | null = null;

/**
 * Once per process; every server in the process (tests start many) shares the result. Built JavaScript
 * reads the bundles the build wrote; the sources bundle in memory.
 */
export function browserAssets(): Promise<Assets> {
  return (loaded ??= (runningFromSources ? Promise.resolve(null) : readPrebuilt()).then((prebuilt) => prebuilt ?? bundleBrowserAssets()));
}
