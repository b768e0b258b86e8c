/**
 * The production build: `npm run build` writes JavaScript and the prebuilt browser bundles to dist/, and
 * `lockstep start` from it answers discovery and serves those bundles; the stale check that makes
 * `npm start` rebuild first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { killRunningClis, startCli, stopCli, withTimeout } from './helpers/cli.ts';

const SERVER = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(SERVER, '..', '..');
const DIST = join(SERVER, 'dist');
const BUNDLES = ['sdk/lockstep.js', 'admin/app.js', 'demo/agent.js', 'demo/crm.js', 'demo/embedded.js', 'demo/callback.js'];

interface BuildScript {
  build(outDir?: string): Promise<void>;
  isStale(outDir?: string): string | null;
  ensureBuilt(outDir?: string, say?: (line: string) => void): Promise<boolean>;
}
const buildScriptPath: string = pathToFileURL(join(SERVER, 'scripts', 'build.mjs')).href;
const buildScript = (await import(buildScriptPath)) as BuildScript;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else out.push(path);
  }
  return out;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return withTimeout(new Promise((res) => child.on('exit', (code) => res({ code, output }))), 120_000, `${command} ${args.join(' ')}`);
}

describe('npm run build, and lockstep start from its output', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-build-'));
  const scratch = join(SERVER, `.dist-test-${process.pid}`);
  after(() => {
    killRunningClis();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  test('npm run build writes ESM JavaScript in the layout of src/ (imports end in .js) and every browser bundle', async () => {
    const { code, output } = await run('npm', ['run', 'build']);
    assert.equal(code, 0, output);
    assert.match(output, /built \S*dist in \d+ ms/);
    const built = files(DIST).map((f) => relative(DIST, f));
    for (const module of ['cli/main.js', 'server.js', 'config.js', 'web/assets.js', 'http/server.js', 'store/sqlite/sqlite-store.js']) {
      assert.ok(built.includes(module), `dist/${module}`);
    }
    assert.ok(!built.some((f) => f.endsWith('.ts')), 'no TypeScript in dist');
    assert.ok(!built.some((f) => f.startsWith('web/browser/')), 'browser code is bundled, not transpiled');
    for (const bundle of BUNDLES) assert.ok(statSync(join(DIST, 'web', 'bundles', bundle)).size > 1000, `dist/web/bundles/${bundle}`);
    for (const file of files(DIST).filter((f) => f.endsWith('.js') && !f.includes('/bundles/'))) {
      const source = readFileSync(file, 'utf8');
      assert.doesNotMatch(source, /from\s*["']\.{1,2}\/[^"']*\.ts["']/, `${relative(DIST, file)} imports no .ts module`);
      assert.doesNotMatch(source, /^import .* from "tsx/m, `${relative(DIST, file)} does not load tsx`);
    }
  });

  test('lockstep start from the build answers discovery and serves the prebuilt bundles', async () => {
    const cli = await startCli({ dataDir, env: { LOCKSTEP_DEMO_CRM_PORT: 'off' } });
    try {
      const discovery = await fetch(cli.url + '/.well-known/openid-configuration');
      assert.equal(discovery.status, 200);
      assert.equal(((await discovery.json()) as { issuer: string }).issuer, cli.url);
      for (const bundle of ['sdk/lockstep.js', 'admin/app.js']) {
        const served = await fetch(`${cli.url}/${bundle}`);
        assert.equal(served.status, 200);
        assert.equal(await served.text(), readFileSync(join(DIST, 'web', 'bundles', bundle), 'utf8'), `${bundle} is the built file`);
      }
    } finally {
      await stopCli(cli);
    }
  });

  test('the stale check: missing, fresh, then stale once a source changes; ensureBuilt says it is building', async () => {
    assert.match(buildScript.isStale(scratch) ?? '', /is missing/);
    const said: string[] = [];
    assert.equal(await buildScript.ensureBuilt(scratch, (line) => said.push(line)), true);
    assert.match(said[0] ?? '', /^lockstep: building \S+ \(\S+ is missing\)/);
    assert.ok(existsSync(join(scratch, 'web', 'bundles', 'sdk', 'lockstep.js')));
    assert.equal(buildScript.isStale(scratch), null);
    assert.equal(await buildScript.ensureBuilt(scratch, (line) => said.push(line)), false, 'a fresh build is not built again');

    // A source newer than the build (this touches the file's time only; its text stays).
    const source = join(SERVER, 'src', 'cli', 'usage.ts');
    const now = new Date();
    utimesSync(source, now, now);
    assert.equal(buildScript.isStale(scratch), 'the sources changed since the last build');
  });
});
