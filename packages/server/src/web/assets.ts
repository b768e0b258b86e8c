import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Browser bundles by URL path, built from TypeScript in memory at start: no build step, nothing to go stale. */
const ENTRIES: Record<string, string> = {
  '/sdk/lockstep.js': here('../../../client/src/index.ts'),
  '/admin/app.js': here('./browser/admin/app.ts'),
  '/demo/agent.js': here('./browser/demo/agent.ts'),
  '/demo/crm.js': here('./browser/demo/crm.ts'),
  '/demo/embedded.js': here('./browser/demo/embedded.ts'),
  '/demo/callback.js': here('./browser/demo/callback.ts'),
};

export type Assets = Map<string, string>;

let built: Promise<Assets> | null = null;

/** Builds once per process; every server in the process (tests start many) shares the result. */
export function browserAssets(): Promise<Assets> {
  return (built ??= Promise.all(
    Object.entries(ENTRIES).map(async ([path, entry]) => {
      const result = await build({
        entryPoints: [entry], bundle: true, format: 'esm', target: 'es2022', platform: 'browser',
        minify: path === '/sdk/lockstep.js', write: false, logLevel: 'silent', legalComments: 'none',
      });
      return [path, result.outputFiles[0]!.text] as const;
    }),
  ).then((pairs) => new Map(pairs)));
}
