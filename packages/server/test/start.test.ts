/**
 * The real CLI as a child process: `lockstep start` banner, metadata, sign-in with the printed
 * password, SIGTERM, restart on the same data directory, and the CLI's error exits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Browser, signIn } from './helpers/browser.ts';
import { killRunningClis, runCli, startCli, stopCli, waitForOutput, withTimeout, type StartedCli } from './helpers/cli.ts';
import { tokenStatus } from './helpers/flows.ts';

interface Started {
  cli: StartedCli;
  url: string;
  banner: string;
  /** The printed demo password, or null when the banner says it is not known. */
  password: string | null;
}

/** `lockstep start` and its whole banner, with the printed demo password picked out. */
async function startDemo(dataDir: string, extra: Record<string, string> = {}): Promise<Started> {
  const cli = await startCli({ dataDir, env: extra });
  // The banner ends with the client-secret line; wait for the whole of it.
  await waitForOutput(cli, /^ {2}secret {4}.+$/m);
  const banner = cli.stdout();
  const printed = /^ {2}password {2}(\S+)\s*$/m.exec(banner)?.[1] ?? null;
  return { cli, url: cli.url, banner, password: printed && !printed.startsWith('(') ? printed : null };
}

async function jwksKids(url: string): Promise<string[]> {
  const jwks = (await (await fetch(url + '/oauth/jwks')).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((k) => k.kid);
}

const agent = (password: string) => ({ username: 'agent@demo.test', password });

describe('lockstep start (the real CLI, as a child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
  after(() => {
    killRunningClis();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // State carried from one step to the next: the steps are one story (first start, restart, restart with a new password).
  let firstPassword = '';
  let firstKids: string[] = [];
  let tokenBeforeRestart = '';
  let refreshBeforeRestart = '';

  test('first start: banner with URL, demo users and a password; metadata answers; the printed password signs in; SIGTERM exits 0', async () => {
    const t0 = Date.now();
    const s = await startDemo(dataDir);
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
      await stopCli(s.cli, { signalDelivered: true });
    }
    assert.ok(!s.cli.stdout().includes(tokenBeforeRestart) && !s.cli.stderr().includes(tokenBeforeRestart), 'the access token is never logged');
  });

  test('restart on the same data dir keeps the data: same password, same JWKS kid, a pre-restart token still live', async (t) => {
    if (!firstPassword) return t.skip('needs the first start');
    const s = await startDemo(dataDir);
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
      await stopCli(s.cli, { signalDelivered: true });
    }
  });

  test('restart with LOCKSTEP_DEMO_PASSWORD: the new password is printed and works, the old one no longer does', async (t) => {
    if (!firstPassword) return t.skip('needs the first start');
    const newPassword = 'chosen-demo-password-2';
    const s = await startDemo(dataDir, { LOCKSTEP_DEMO_PASSWORD: newPassword });
    try {
      assert.equal(s.password, newPassword, 'the banner prints the chosen password');
      const { tokens, passwordPrompted } = await signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(newPassword));
      assert.equal(passwordPrompted, true);
      assert.equal(await tokenStatus(s.url, tokens.access_token), 200);
      await assert.rejects(signIn(s.url, new Browser(), { clientId: 'agent-desktop' }, agent(firstPassword)), /authorize answered 401/);
      assert.equal(await tokenStatus(s.url, tokenBeforeRestart), 200, 'changing the password does not end existing tokens');
      assert.deepEqual(await jwksKids(s.url), firstKids);
    } finally {
      await stopCli(s.cli, { signalDelivered: true });
    }
  });
});

describe('lockstep CLI errors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-errors-'));
  after(() => {
    killRunningClis();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('org create without --admin-email exits 2 with the usage text', async () => {
    const { code, stderr } = await runCli(['org', 'create', '--name', 'Acme'], { LOCKSTEP_DATA_DIR: dataDir });
    assert.equal(code, 2);
    assert.match(stderr, /--admin-email/);
    assert.match(stderr, /Usage:/);
    assert.match(stderr, /lockstep org create --name NAME --admin-email EMAIL/);
  });

  test('org create with no arguments at all exits 2 with the usage text', async () => {
    const { code, stderr } = await runCli(['org', 'create'], { LOCKSTEP_DATA_DIR: dataDir });
    assert.equal(code, 2);
    assert.match(stderr, /Usage:/);
  });

  test('PORT=abc exits non-zero with a message naming PORT, without starting', async () => {
    const { code, stdout, stderr } = await runCli(['start'], { PORT: 'abc', LOCKSTEP_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    assert.notEqual(code, 0);
    assert.match(stderr, /PORT must be an integer from 0 to 65535, got "abc"/);
    assert.doesNotMatch(stdout, /Lockstep is running/);
  });

  test('org create with valid arguments prints a one-time password; the same email again is refused', async () => {
    const orgDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-org-'));
    try {
      const ok = await runCli(['org', 'create', '--name', 'Acme', '--admin-email', 'admin@acme.test'], { LOCKSTEP_DATA_DIR: orgDir });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /Created organization "Acme"/);
      assert.match(ok.stdout, /password {2}\S{12,}/);

      const again = await runCli(['org', 'create', '--name', 'Acme 2', '--admin-email', 'ADMIN@acme.test'], { LOCKSTEP_DATA_DIR: orgDir });
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /already exists/);
    } finally {
      rmSync(orgDir, { recursive: true, force: true });
    }
  });
});
