/**
 * Secrets at rest (DESIGN.md): only SHA-256 of tokens, refresh tokens, codes, session cookies and
 * client secrets is stored; passwords only as scrypt hashes. The test drives real flows, then reads
 * every file of the data directory as raw bytes, while the server runs (WAL) and after it stopped.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authorizeCode, Browser, clientCredentials, exchangeCode, signIn } from './helpers/browser.ts';
import { api, refresh, tokenStatus } from './helpers/flows.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Every file of the data directory (lockstep.sqlite, -wal, -shm), read as raw bytes. */
function readDataDir(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

function filesContaining(files: Map<string, Buffer>, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return [...files].filter(([, content]) => content.includes(bytes)).map(([name]) => name);
}

describe('secrets at rest: the SQLite files hold no raw credential', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-at-rest-'));
  let server: TestServer | null = null;
  /** name → raw secret that must never reach the disk. */
  const secrets = new Map<string, string>();
  /** Values whose SHA-256 must be on disk: proves the scan reads the files the store writes. */
  const hashed = new Map<string, string>();
  let createdClientId = '';
  let newUserId = '';
  const NEW_PASSWORD = 'Correct-Horse-Battery-Staple-42';
  const WRONG_PASSWORD = 'a-wrong-guess-that-must-not-be-kept';

  before(async () => {
    server = await startTestServer({ dataDir });
    const url = server.url;

    // Agent: code + PKCE through the login form (the raw code captured), then a second client without a prompt.
    const agentBrowser = new Browser();
    const step = await authorizeCode(url, agentBrowser, { clientId: 'agent-desktop' }, { username: 'agent@demo.test', password: DEMO_PASSWORD });
    assert.equal(step.passwordPrompted, true);
    const agentTokens = await exchangeCode(step);
    const agentCookie = agentBrowser.cookies.get('lockstep_session');
    assert.ok(agentCookie, 'the sign-in session cookie was set');
    const crm = await signIn(url, agentBrowser, { clientId: 'crm-embedded' });
    assert.equal(crm.passwordPrompted, false);
    const refreshed = await refresh(url, 'agent-desktop', agentTokens.refresh_token!);
    assert.equal(await tokenStatus(url, refreshed.access_token), 200);

    secrets.set('authorization code', step.code);
    secrets.set('agent access token', agentTokens.access_token);
    secrets.set('agent refresh token (rotated)', agentTokens.refresh_token!);
    secrets.set('agent access token after refresh', refreshed.access_token);
    secrets.set('agent refresh token after refresh', refreshed.refresh_token!);
    secrets.set('crm access token', crm.tokens.access_token);
    secrets.set('crm refresh token', crm.tokens.refresh_token!);
    secrets.set('agent session cookie', agentCookie);
    hashed.set('agent access token', agentTokens.access_token);
    hashed.set('agent refresh token', refreshed.refresh_token!);
    hashed.set('authorization code', step.code);
    hashed.set('agent session cookie', agentCookie);

    // A failed login: the typed password is not kept either (the audit entry says only that it failed).
    const failed = new Browser();
    await assert.rejects(signIn(url, failed, { clientId: 'agent-desktop' }, { username: 'agent@demo.test', password: WRONG_PASSWORD }), /authorize answered 401/);
    secrets.set('wrong password typed at login', WRONG_PASSWORD);

    // Admin user and client credentials.
    const adminBrowser = new Browser();
    const admin = await signIn(url, adminBrowser, { clientId: 'agent-desktop' }, { username: 'admin@demo.test', password: DEMO_PASSWORD });
    secrets.set('admin access token', admin.tokens.access_token);
    secrets.set('admin refresh token', admin.tokens.refresh_token!);
    secrets.set('admin session cookie', adminBrowser.cookies.get('lockstep_session')!);
    const automation = await clientCredentials(url, 'automation', DEMO_SECRET);
    secrets.set('automation access token', automation.access_token);
    hashed.set('automation access token', automation.access_token);

    // A confidential client created through the API: its secret is in the answer, once.
    const created = await api(url, automation.access_token, 'POST', '/api/v2/oauth/clients', {
      name: 'Nightly export', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^lscs_/);
    createdClientId = created.body.id;
    const again = await api(url, automation.access_token, 'GET', `/api/v2/oauth/clients/${createdClientId}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.secret, undefined, 'the secret is shown once, never again');
    const exportTokens = await clientCredentials(url, createdClientId, created.body.secret);
    assert.equal(await tokenStatus(url, exportTokens.access_token), 200, 'the new client\'s secret works');
    secrets.set('new client secret', created.body.secret);
    secrets.set('new client access token', exportTokens.access_token);
    hashed.set('new client secret', created.body.secret);

    // A user with a password, created by the admin user; then that user signs in.
    const user = await api(url, admin.tokens.access_token, 'POST', '/api/v2/users', {
      email: 'new.hire@demo.test', name: 'New Hire', password: NEW_PASSWORD, roles: ['agent'],
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    assert.equal(user.body.password, undefined);
    assert.equal(user.body.passwordHash, undefined);
    newUserId = user.body.id;
    const hire = await signIn(url, new Browser(), { clientId: 'agent-desktop' }, { username: 'new.hire@demo.test', password: NEW_PASSWORD });
    assert.equal(await tokenStatus(url, hire.tokens.access_token), 200, 'the new user can sign in with the password');
    secrets.set('new user password', NEW_PASSWORD);
    secrets.set('new user access token', hire.tokens.access_token);

    secrets.set('demo password', DEMO_PASSWORD);
    secrets.set('demo client secret', DEMO_SECRET);
    hashed.set('demo client secret', DEMO_SECRET);
  });

  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function assertNoSecrets(files: Map<string, Buffer>) {
    assert.ok(secrets.size >= 18, 'the flows produced the secrets to look for');
    for (const [name, value] of secrets) {
      assert.ok(value.length >= 16, `${name} is long enough to search for`);
      assert.deepEqual(filesContaining(files, value), [], `the raw ${name} must not be on disk`);
    }
  }

  test('while the server runs: no raw secret in lockstep.sqlite, -wal or -shm, yet their SHA-256 hashes are there', () => {
    const files = readDataDir(dataDir);
    assert.ok(files.has('lockstep.sqlite'), `data dir holds ${[...files.keys()].join(', ')}`);
    assert.ok(files.has('lockstep.sqlite-wal'), 'the store runs in WAL mode, so recent writes sit in the -wal file');
    assertNoSecrets(files);
    for (const [name, value] of hashed) {
      assert.ok(filesContaining(files, sha256(value)).length > 0, `the SHA-256 of the ${name} is on disk (the scan reads the right files)`);
    }
  });

  test('after stop (WAL checkpointed into the main file): still no raw secret; hashes in lockstep.sqlite itself', async () => {
    await server!.stop();
    server = null;
    const files = readDataDir(dataDir);
    assertNoSecrets(files);
    const main = new Map([['lockstep.sqlite', files.get('lockstep.sqlite')!]]);
    for (const [name, value] of hashed) {
      assert.deepEqual(filesContaining(main, sha256(value)), ['lockstep.sqlite'], `the SHA-256 of the ${name} was checkpointed into the main file`);
    }
    assert.ok(!existsSync(join(dataDir, 'lockstep.sqlite-wal')) || files.get('lockstep.sqlite-wal')!.length === 0, 'the WAL was checkpointed');

    // The columns hold what DESIGN.md says: scrypt for passwords, SHA-256 for client secrets.
    const db = new Database(join(dataDir, 'lockstep.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT password_hash FROM users WHERE id = ?').get(newUserId) as { password_hash: string };
      assert.match(row.password_hash, /^scrypt\$/);
      const demoHashes = db.prepare("SELECT password_hash FROM users WHERE org_id = 'demo' AND email LIKE '%@demo.test' AND id <> ?").all(newUserId) as { password_hash: string }[];
      assert.equal(demoHashes.length, 4);
      assert.ok(demoHashes.every((r) => r.password_hash.startsWith('scrypt$')));
      const client = db.prepare('SELECT secret_hash FROM clients WHERE id = ?').get(createdClientId) as { secret_hash: string };
      assert.equal(client.secret_hash, sha256(secrets.get('new client secret')!));
    } finally {
      db.close();
    }
  });
});
