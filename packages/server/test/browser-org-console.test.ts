/**
 * An org made by `lockstep org create` (the real CLI, beside a running server on the same store) gets its own
 * admin console client: its admin opens the printed console URL in Chromium, signs in with the printed
 * one-time password and manages that org, and only that org.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser as Chromium } from 'playwright-core';
import { chromiumOrSkip, launchChromium, screenshot } from './helpers/chromium.ts';
import { killRunningClis, runCli } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const chromium = chromiumOrSkip();

describe('admin console of an org made by lockstep org create (Chromium)', { skip: chromium.skip }, () => {
  let server: TestServer;
  let chrome: Chromium;

  before(async () => {
    server = await startTestServer();
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    killRunningClis();
  });

  test('the new org\'s admin signs in at the printed console URL and sees the console of that org', async () => {
    const created = await runCli(['org', 'create', '--name', 'Acme Support', '--admin-email', 'admin@acme.test'],
      { LOCKSTEP_DATA_DIR: server.dataDir, LOCKSTEP_ISSUER: server.url, LOG_LEVEL: 'silent' }, 60_000);
    assert.equal(created.code, 0, created.stderr);
    const orgId = /Created organization "Acme Support" \(([^)]+)\)/.exec(created.stdout)?.[1];
    const password = /^ {2}password {2}(\S+)/m.exec(created.stdout)?.[1];
    const consoleUrl = /^ {2}console {3}(\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(orgId && password && consoleUrl, `the CLI printed the org, the password and the console URL:\n${created.stdout}`);
    assert.ok(consoleUrl.startsWith(`${server.url}/admin?client_id=`), consoleUrl);

    const page = await (await chrome.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('input[name="username"]').fill('admin@acme.test');
    await page.locator('input[name="password"]').fill(password);
    await page.locator('form button[type="submit"]').click();
    await page.waitForURL((url) => url.pathname === '/admin');
    await page.getByRole('heading', { name: 'Organization Settings' }).waitFor();

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.locator('tr[data-user="admin@acme.test"]').waitFor();
    assert.equal(await page.locator('tr[data-user]').count(), 1, 'only the new org\'s users');
    assert.equal(await page.locator('tr[data-user="admin@demo.test"]').count(), 0);
    await screenshot(page, 'org-create-console-users');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByRole('cell', { name: 'admin@acme.test' }).first().waitFor();
    await page.getByRole('cell', { name: `admin-console-${orgId}` }).first().waitFor();
  });
});
