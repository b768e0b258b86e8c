#!/usr/bin/env node
// Starts from the build (dist/, made by `npm run build`), building it first when it is missing or older
// than the sources. Without a usable build (a read-only install, a failed build) it runs the TypeScript
// sources through tsx, as the tests do.
import { ensureBuilt, DIST } from '../scripts/build.mjs';

let built = true;
try {
  await ensureBuilt(DIST);
} catch (err) {
  built = false;
  process.stderr.write(`lockstep: the build failed (${err?.message ?? err}); running the TypeScript sources instead\n`);
}
if (built) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
