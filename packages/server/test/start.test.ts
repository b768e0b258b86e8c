/**
 * The real CLI as a child process: `lockstep start` banner, metadata, sign-in with the printed
 * password, SIGTERM, restart on the same data directory, and the CLI's error exits.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Browser, signIn } from './helpers/browser.ts';
import { tokenStatus } from './helpers/flows.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join('packages', 'server', 'bin', 'lockstep.js');
const STARTUP_MS = 20_000;

/** The parent's environment without anything that would change what the CLI does. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LOCKSTEP_') || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL' || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

function runCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      res({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until stdout matches, failing early if the process exits or time runs out. */
async function waitFor(cli: Cli, pattern: RegExp, ms = STARTUP_MS): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  let exited = false;
  void cli.exited.then(() => (exited = true));
  for (;;) {
    const m = pattern.exec(cli.stdout());
    if (m) return m;
    if (exited) throw new Error(`the CLI exited before printing ${pattern}\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Started {
  cli: Cli;
  url: string;
  banner: string;
  /** The printed demo password, or null when the banner says it is not known. */
  password: string | null;
}

async function startCli(dataDir: string, extra: Record<string, string> = {}): Promise<Started> {
  const cli = runCli(['start'], { PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra });
  const [, url] = await waitFor(cli, /Lockstep is running at (http:\/\/127\.0\.0\.1:\d+)\n/);
  // The banner ends with the client-secret line; wait for the whole of it.
  await waitFor(cli, /^ {2}secret {4}.+$/m);
  const banner = cli.stdout();
  const printed = /^ {2}password {2}(\S+)\s*$/m.exec(banner)?.[1] ?? null;
  return { cli, url: url!, banner, password: printed && !printed.startsWith('(') ? printed : null };
}

async function stopCli(s: Started) {
  assert.equal(s.cli.child.kill('SIGTERM'), true);
  const { code, signal } = await withTimeout(s.cli.exited, 15_000, 'exit after SIGTERM');
  assert.equal(signal, null, `exited by itself, not killed (stderr: ${s.cli.stderr()})`);
  assert.equal(code, 0, `exit code 0 after SIGTERM (stderr: ${s.cli.stderr()})`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

async function jwksKids(url: string): Promise<string[]> {
  const jwks = (await (await fetch(url + '/oauth/jwks')).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((k) => k.kid);
}

const agent = (password: string) => ({ username: 'agent@demo.test', password });

describe('lockstep start (the real CLI, as a child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
  after(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  // State carried from one step to the next: the steps are one story (first start, restart, restart with a new password).
  let firstPassword = '';
  let firstKids: string[] = [];
  let tokenBeforeRestart = '';
  let refreshBeforeRestart = '';

  test('first start: banner with URL, demo users and a password; metadata answers; the printed password signs in; SIGTERM exits 0', async () => {
    const t0 = Date.now();
    const s = await startCli(dataDir);
    try {
      const response = await withTimeout(fetch(s.url + '/.well-known/openid-configuration'), 5_000, 'openid-configuration');
      const elapsed = Date.now() - t0;
      assert.equal(response.status, 200);
      assert.ok(elapsed < 15_000, `answered ${elapsed} ms after spawn`);
      const meta = (await response.json()) as Record<string, unknown>;
      assert.equal(meta.issuer, s.url);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      for (const key of ['revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint', 'jwks_uri']) {
        assert.equal(typeof meta[key], 'string', key);
        assert.ok((meta[key] as string).startsWith(s.url + '/'), `${key} is served by this server: ${meta[key]}`);
      }

      assert.match(s.banner, /Demo org seeded/);
      for (const email of ['admin@demo.test', 'supervisor@demo.test', 'agent@demo.test', 'agent2@demo.test']) {
        assert.ok(s.banner.includes(email), `the banner names ${email}`);
      }
      assert.ok(s.banner.includes(dataDir), 'the banner names the data directory');
      assert.ok(s.password && s.password.length >= 12, `a generated password is printed: ${s.password}`);
      firstPassword = s.password!;

      const { tokens, passwordPrompted } = await signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(firstPassword));
      assert.equal(passwordPrompted, true);
      assert.equal(await tokenStatus(s.url, tokens.access_token), 200);
      await assert.rejects(signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent('not-the-password')), /authorize answered 401/);
      tokenBeforeRestart = tokens.access_token;
      refreshBeforeRestart = tokens.refresh_token!;
      firstKids = await jwksKids(s.url);
      assert.equal(firstKids.length, 1);
    } finally {
      await stopCli(s);
    }
    assert.ok(!s.cli.stdout().includes(tokenBeforeRestart) && !s.cli.stderr().includes(tokenBeforeRestart), 'the access token is never logged');
  });

  test('restart on the same data dir keeps the data: same password, same JWKS kid, a pre-restart token still live', async (t) => {
    if (!firstPassword) return t.skip('needs the first start');
    const s = await startCli(dataDir);
    try {
      assert.doesNotMatch(s.banner, /Demo org seeded/, 'not seeded again');
      assert.match(s.banner, /Demo org/);
      assert.equal(s.password, null, 'a generated password is not known (nor printed) after a restart');
      assert.ok(!s.banner.includes(firstPassword));

      assert.deepEqual(await jwksKids(s.url), firstKids, 'the signing key survived the restart');
      assert.equal(await tokenStatus(s.url, tokenBeforeRestart), 200, 'a token issued before the restart is still live');
      const { tokens } = await signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(firstPassword));
      assert.equal(await tokenStatus(s.url, tokens.access_token), 200, 'the first password still works');

      const refreshed = await fetch(s.url + '/oauth/token', {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshBeforeRestart, client_id: 'agent-desktop' }),
      });
      assert.equal(refreshed.status, 200, 'a refresh token issued before the restart still works');
    } finally {
      await stopCli(s);
    }
  });

  test('restart with LOCKSTEP_DEMO_PASSWORD: the new password is printed and works, the old one no longer does', async (t) => {
    if (!firstPassword) return t.skip('needs the first start');
    const newPassword = 'chosen-demo-password-2';
    const s = await startCli(dataDir, { LOCKSTEP_DEMO_PASSWORD: newPassword });
    try {
      assert.equal(s.password, newPassword, 'the banner prints the chosen password');
      const { tokens, passwordPrompted } = await signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(newPassword));
      assert.equal(passwordPrompted, true);
      assert.equal(await tokenStatus(s.url, tokens.access_token), 200);
      await assert.rejects(signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(firstPassword)), /authorize answered 401/);
      assert.equal(await tokenStatus(s.url, tokenBeforeRestart), 200, 'changing the password does not end existing tokens');
      assert.deepEqual(await jwksKids(s.url), firstKids);
    } finally {
      await stopCli(s);
    }
  });
});

describe('lockstep CLI errors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-errors-'));
  after(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('org create without --admin-email exits 2 with the usage text', async () => {
    const cli = runCli(['org', 'create', '--name', 'Acme'], { LOCKSTEP_DATA_DIR: dataDir });
    const { code } = await withTimeout(cli.exited, STARTUP_MS, 'exit');
    assert.equal(code, 2);
    assert.match(cli.stderr(), /--admin-email/);
    assert.match(cli.stderr(), /Usage:/);
    assert.match(cli.stderr(), /lockstep org create --name NAME --admin-email EMAIL/);
  });

  test('org create with no arguments at all exits 2 with the usage text', async () => {
    const cli = runCli(['org', 'create'], { LOCKSTEP_DATA_DIR: dataDir });
    const { code } = await withTimeout(cli.exited, STARTUP_MS, 'exit');
    assert.equal(code, 2);
    assert.match(cli.stderr(), /Usage:/);
  });

  test('PORT=abc exits non-zero with a message naming PORT, without starting', async () => {
    const cli = runCli(['start'], { PORT: 'abc', LOCKSTEP_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const { code } = await withTimeout(cli.exited, STARTUP_MS, 'exit');
    assert.notEqual(code, 0);
    assert.match(cli.stderr(), /PORT must be an integer from 0 to 65535, got "abc"/);
    assert.doesNotMatch(cli.stdout(), /Lockstep is running/);
  });

  test('org create with valid arguments prints a one-time password; the same email again is refused', async () => {
    const orgDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-org-'));
    try {
      const ok = runCli(['org', 'create', '--name', 'Acme', '--admin-email', 'admin@acme.test'], { LOCKSTEP_DATA_DIR: orgDir });
      assert.equal((await withTimeout(ok.exited, STARTUP_MS, 'exit')).code, 0, ok.stderr());
      assert.match(ok.stdout(), /Created organization "Acme"/);
      assert.match(ok.stdout(), /password {2}\S{12,}/);

      const again = runCli(['org', 'create', '--name', 'Acme 2', '--admin-email', 'ADMIN@acme.test'], { LOCKSTEP_DATA_DIR: orgDir });
      const { code } = await withTimeout(again.exited, STARTUP_MS, 'exit');
      assert.notEqual(code, 0);
      assert.match(again.stderr(), /already exists/);
    } finally {
      rmSync(orgDir, { recursive: true, force: true });
    }
  });
});
