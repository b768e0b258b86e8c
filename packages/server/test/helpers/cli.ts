/**
 * The real `lockstep` CLI as a child process: `startCli` for `lockstep start` (resolves once the
 * banner names the URL), `runCli` for one-shot commands such as `lockstep org create`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join('packages', 'server', 'bin', 'lockstep.js');
/** How long a CLI may take to start (or to finish a one-shot command). */
export const STARTUP_MS = 20_000;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

/** The parent's environment without anything that would change what the CLI does, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LOCKSTEP_') || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL' || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<CliExit>;
}

export interface StartedCli extends Cli {
  /** The URL the banner printed. */
  url: string;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every CLI this process started that has not exited yet (for `after` hooks). */
export function killRunningClis() {
  for (const child of running) child.kill('SIGKILL');
}

/** Spawns `lockstep ARGS` with a clean environment plus `env`; collects its output. */
export function spawnCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<CliExit>((res) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      res({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until stdout matches, failing early if the process exits or time runs out. */
export async function waitForOutput(cli: Cli, pattern: RegExp, ms = STARTUP_MS): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  let exited = false;
  void cli.exited.then(() => (exited = true));
  for (;;) {
    const m = pattern.exec(cli.stdout());
    if (m) return m;
    if (exited) throw new Error(`the CLI exited before printing ${pattern}\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `lockstep start` on a data directory (PORT=0, LOG_LEVEL=warn unless `env` says otherwise); resolves once the banner names the URL. */
export async function startCli(opts: { dataDir: string; env?: Record<string, string> }): Promise<StartedCli> {
  const cli = spawnCli(['start'], { PORT: '0', LOCKSTEP_DATA_DIR: opts.dataDir, LOG_LEVEL: 'warn', ...opts.env });
  try {
    const [, url] = await waitForOutput(cli, /Lockstep is running at (http:\/\/127\.0\.0\.1:\d+)\n/);
    return { ...cli, url: url! };
  } catch (err) {
    cli.child.kill('SIGKILL');
    throw err;
  }
}

/**
 * SIGTERM, then asserts the CLI exited by itself with code 0 within 15 s.
 * `signalDelivered`: also asserts that the signal reached a running process.
 */
export async function stopCli(cli: Cli, opts: { signalDelivered?: boolean } = {}) {
  const delivered = cli.child.kill('SIGTERM');
  if (opts.signalDelivered) assert.equal(delivered, true);
  const { code, signal } = await withTimeout(cli.exited, 15_000, 'exit after SIGTERM');
  assert.equal(signal, null, `exited by itself, not killed (stderr: ${cli.stderr()})`);
  assert.equal(code, 0, `exit code 0 after SIGTERM (stderr: ${cli.stderr()})`);
}

/** A one-shot command (`org create …`): runs it to the end (at most `ms`) and answers how it exited and what it printed. */
export async function runCli(args: string[], env: Record<string, string>, ms = STARTUP_MS): Promise<CliExit & { stdout: string; stderr: string }> {
  const cli = spawnCli(args, env);
  try {
    const exit = await withTimeout(cli.exited, ms, 'exit');
    return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
  } catch (err) {
    cli.child.kill('SIGKILL');
    throw err;
  }
}

/** `lockstep org create` against a data directory; asserts it succeeded and answers the new org's id and its admin's one-time password. */
export async function createOrg(opts: { dataDir: string; name: string; adminEmail: string }): Promise<{ orgId: string; password: string }> {
  const { code, stdout, stderr } = await runCli(
    ['org', 'create', '--name', opts.name, '--admin-email', opts.adminEmail], { LOCKSTEP_DATA_DIR: opts.dataDir, LOG_LEVEL: 'silent' }, 60_000,
  );
  assert.equal(code, 0, `lockstep org create failed:\n${stderr}`);
  const created = /Created organization "([^"]*)" \(([^)]+)\)/.exec(stdout);
  const orgId = created?.[1] === opts.name ? created[2] : undefined;
  const password = /password\s+(\S+)/.exec(stdout)?.[1];
  assert.ok(orgId && password, `unexpected CLI output: ${stdout}`);
  return { orgId, password };
}
