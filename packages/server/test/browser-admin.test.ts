import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser as Chromium, BrowserContext, Locator, Page } from 'playwright-core';
import { api } from './helpers/api.ts';
import { automationToken, Browser, signIn } from './helpers/browser.ts';
import { chromiumOrSkip, launchChromium, screenshot } from './helpers/chromium.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

const chromium = chromiumOrSkip();
const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };

/** The text of the error slot a control points at with aria-describedby (the one with role=alert). */
async function errorNextTo(control: Locator): Promise<string> {
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const page = control.page();
  for (const id of ids) {
    const slot = page.locator(`[id="${id}"][role="alert"]`);
    if (await slot.count()) return (await slot.textContent()) ?? '';
  }
  return '';
}

/** Opens /admin in a fresh context and signs in through the server's login form. */
async function signInToConsole(context: BrowserContext, baseUrl: string, username: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(baseUrl + '/admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === '/admin');
  return page;
}

describe('admin console (Chromium)', { skip: chromium.skip }, () => {
  let server: TestServer;
  let call: ReturnType<typeof api>;
  let chrome: Chromium;
  let context: BrowserContext;
  let page: Page;
  let nightShiftId: string;
  const admin = () => automationToken(server.url, DEMO_SECRET);
  const head = async (token: string) => (await call('HEAD', '/api/v2/tokens/me', token)).status;
  const idleSettings = async () => (await call('GET', '/api/v2/tokens/timeout', await admin())).body;
  const timeoutInput = () => page.getByLabel('Timeout', { exact: true }).first();
  const saveIdle = () => page.getByRole('button', { name: 'Save idle timeout' });
  const setTimeoutTo = async (value: string, unit: 'minutes' | 'hours') => {
    await timeoutInput().fill(value);
    await page.getByLabel('Timeout unit').first().selectOption(unit);
    await saveIdle().click();
  };
  const agentOnTwoClients = async () => {
    const b = new Browser();
    const desktop = (await signIn(server.url, b, { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const crm = (await signIn(server.url, b, { clientId: 'crm-embedded' }, agent)).tokens.access_token;
    assert.equal(await head(desktop), 200);
    assert.equal(await head(crm), 200);
    return { desktop, crm };
  };

  before(async () => {
    server = await startTestServer({ env: { LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS: '60' } });
    call = api(server.url);
    const group = await call('POST', '/api/v2/groups', await admin(), { name: 'Night shift', description: 'Agents on the night rota' });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    nightShiftId = group.body.id;
    chrome = await launchChromium();
    context = await chrome.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
  });

  test('an admin signs in at /admin and lands on Organization Settings → Authentication', async () => {
    page = await signInToConsole(context, server.url, 'admin@demo.test');
    await page.getByRole('heading', { name: 'Organization Settings' }).waitFor();
    await page.getByRole('link', { name: 'Authentication' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Authentication' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByRole('switch', { name: 'Universal logout' }).isChecked(), false);
  });

  test('universal logout is switched on and saved with the keyboard; the API shows it', async () => {
    const toggle = page.getByRole('switch', { name: 'Universal logout' });
    await toggle.focus();
    await page.keyboard.press('Space');
    assert.equal(await toggle.isChecked(), true);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Save universal logout');
    await page.keyboard.press('Enter');
    await page.getByText('Saved: universal logout is on.').waitFor();
    const settings = await call('GET', '/api/v2/organizations/authentication/settings', await admin());
    assert.equal(settings.body.universalLogoutEnabled, true);
    await screenshot(page, 'admin-authentication');
  });

  test('an out-of-range timeout shows a message next to the field and is not saved', async () => {
    const before = await idleSettings();
    await page.getByRole('switch', { name: 'Idle token timeout' }).check();
    await setTimeoutTo('10', 'hours');
    await page.getByText('Not saved.').waitFor();
    const message = await errorNextTo(timeoutInput());
    assert.match(message, /10 hours/);
    assert.match(message, /at most 8 hours/);
    assert.equal(await timeoutInput().getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await idleSettings(), before, 'nothing was saved');
    await screenshot(page, 'admin-timeout-error');

    // Below the server's floor (60 s here): the server's 400 is shown next to the field, in minutes.
    await setTimeoutTo('0.5', 'minutes');
    await page.getByText(/must be from 1 minute to 8 hours; you entered 30 seconds/).waitFor();
    assert.match(await errorNextTo(timeoutInput()), /you entered 30 seconds/);
    assert.deepEqual(await idleSettings(), before, 'nothing was saved');

    // A bad excluded path: the server's message goes next to the textarea.
    await timeoutInput().fill('1');
    await page.getByLabel('Excluded paths').fill('/api/v2/users/*/presence\n/api/v2/users?x');
    await saveIdle().click();
    await page.getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(page.getByLabel('Excluded paths')), /Excluded path "\/api\/v2\/users\?x"/);
    assert.deepEqual(await idleSettings(), before, 'nothing was saved');
    await page.getByLabel('Excluded paths').fill('/api/v2/users/*/presence');
  });

  test('HIPAA: enabling it over the cap is refused with what to lower; once on, the field says so', async () => {
    await setTimeoutTo('1', 'hours');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    const hipaa = page.getByRole('switch', { name: 'HIPAA compliance' });
    await hipaa.check();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(hipaa), /Lower the idle timeout \(now 1 hour\)/);
    assert.equal(await hipaa.isChecked(), false, 'the switch shows what is saved');
    assert.equal((await call('GET', '/api/v2/organizations/features/hipaa', await admin())).body.enabled, false);

    await setTimeoutTo('15', 'minutes');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    await hipaa.check();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Saved: HIPAA compliance is on.').waitFor();
    await page.getByText('HIPAA is enabled: at most 15 minutes.').first().waitFor();
    await setTimeoutTo('20', 'minutes');
    assert.match(await errorNextTo(timeoutInput()), /HIPAA is enabled: the idle timeout can be at most 15 minutes/);
    await hipaa.uncheck();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Saved: HIPAA compliance is off.').waitFor();
  });

  test('a group bundle is added with the editor: priority, timeout and groups from the org', async () => {
    await page.getByRole('button', { name: 'Add group bundle' }).click();
    const bundle = page.getByRole('group', { name: 'Group bundle 1' });
    await bundle.getByLabel('Timeout', { exact: true }).fill('10');
    await saveIdle().click();
    assert.match((await bundle.getByRole('alert').allTextContents()).join(' '), /Group bundle 1: choose at least one group/);
    await bundle.getByLabel('Night shift').check();
    await page.getByRole('switch', { name: 'Use a different timeout for some groups' }).check();
    await saveIdle().click();
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    await screenshot(page, 'admin-group-bundle');
    const saved = await idleSettings();
    assert.equal(saved.inactivityTimeoutGroupsEnabled, true);
    assert.deepEqual(saved.inactivityTimeoutGroupBundles, [{ priority: 1, timeoutSeconds: 600, groups: [nightShiftId] }]);
  });

  test('15 minutes is saved, and the next logout is universal without a restart', async () => {
    await setTimeoutTo('15', 'minutes');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    assert.equal(await errorNextTo(timeoutInput()), '');
    const saved = await idleSettings();
    assert.equal(saved.enableIdleTokenTimeout, true);
    assert.equal(saved.idleTokenTimeoutSeconds, 900);
    assert.deepEqual(saved.excludedPaths, ['/api/v2/users/*/presence']);

    const { desktop, crm } = await agentOnTwoClients();
    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop)).status, 204);
    assert.equal(await head(desktop), 401);
    assert.equal(await head(crm), 401, 'universal logout, switched on in the console, ended the other client too');
  });

  test('"Log off" on the Users page signs the agent out of every client, and the audit log shows it', async () => {
    const { desktop, crm } = await agentOnTwoClients();
    const agentId = (await call('GET', '/api/v2/tokens/me', desktop)).body.user.id;
    assert.equal((await call('PATCH', `/api/v2/users/${agentId}/presence`, desktop, { presenceDefinition: { systemPresence: 'Available' } })).status, 200);
    assert.equal((await call('PUT', `/api/v2/users/${agentId}/routingstatus`, desktop, { status: 'IDLE' })).status, 200);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const row = page.locator('tr[data-user="agent@demo.test"]');
    await row.getByText('Agent Desktop').waitFor();
    await row.getByText('CRM (embedded)').waitFor();
    assert.equal(await row.locator('.pill').textContent(), 'Available');
    await row.getByText('Idle', { exact: true }).waitFor();
    await screenshot(page, 'admin-users');

    await row.getByRole('button', { name: 'Log off Alex Agent (agent@demo.test)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Log off Alex Agent?' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'Cancel has the focus first');
    await screenshot(page, 'admin-logoff-confirm');
    await dialog.getByRole('button', { name: 'Log off' }).click();
    await page.getByText('Alex Agent was logged off from every client.').waitFor();
    await row.getByText('None').waitFor();
    assert.equal(await row.locator('.pill').textContent(), 'Offline');
    await row.getByText('Off queue', { exact: true }).waitFor();
    assert.equal(await head(desktop), 401);
    assert.equal(await head(crm), 401);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Kind').selectOption('admin_logoff');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const entry = page.locator('tr[data-kind="admin_logoff"]').first();
    await entry.waitFor();
    assert.match((await entry.textContent()) ?? '', /agent@demo\.test/);
    assert.match((await entry.textContent()) ?? '', /by admin@demo\.test/);
    assert.equal(await page.locator('tbody tr').count(), await page.locator('tr[data-kind="admin_logoff"]').count(), 'the kind filter applies');
    await page.getByLabel('Kind').selectOption('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tr[data-kind="settings_changed"]').first().waitFor();
    await screenshot(page, 'admin-audit');
  });

  test('Applications: an extra allowed origin is checked, saved and kept; the API returns it and CORS follows it', async () => {
    const crmOrigin = 'https://crm.example.test';
    const crmClient = async () => (await call('GET', '/api/v2/oauth/clients/crm-embedded', await admin())).body;
    const preflight = async () => {
      const res = await fetch(server.url + '/api/v2/tokens/me', { method: 'OPTIONS', headers: { origin: crmOrigin, 'access-control-request-method': 'GET' } });
      return res.headers.get('access-control-allow-origin');
    };
    const before = await crmClient();
    assert.deepEqual(before.allowedOrigins, []);
    assert.equal(await preflight(), null, 'no CORS for the CRM origin yet');
    const puts: string[] = [];
    page.on('request', (r) => { if (r.method() === 'PUT' && r.url().includes('/api/v2/oauth/clients/')) puts.push(r.postData() ?? ''); });

    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Applications' }).getAttribute('aria-current'), 'page');
    const card = () => page.getByRole('region', { name: 'CRM (embedded)' });
    const field = () => card().getByLabel('Add an allowed origin');
    const extra = () => card().getByRole('list', { name: 'Extra allowed origins' }).getByRole('listitem');
    const save = () => card().getByRole('button', { name: 'Save allowed origins' });
    await card().getByText('crm-embedded', { exact: true }).waitFor();
    await card().getByText(`${server.url}/demo/callback`).waitFor();
    // The test server's issuer is on 127.0.0.1: its redirect URIs' origin is loopback, so any port.
    assert.deepEqual(await card().getByRole('list', { name: 'From redirect URIs' }).getByRole('listitem').allTextContents(), ['http://127.0.0.1any port']);
    assert.deepEqual(await extra().allTextContents(), ['None']);

    // Not an origin: refused on the spot, and Save with it still in the field sends nothing.
    await field().fill(`${crmOrigin}/path`);
    await card().getByRole('button', { name: 'Add origin' }).click();
    assert.match(await errorNextTo(field()), /"https:\/\/crm\.example\.test\/path" is not an origin: it must not have a path.*Use https:\/\/crm\.example\.test\./);
    assert.equal(await field().getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await extra().allTextContents(), ['None']);
    await save().click();
    await card().getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(field()), /must not have a path/);
    await screenshot(page, 'admin-applications-invalid');
    assert.deepEqual(puts, [], 'nothing was sent');
    assert.deepEqual(await crmClient(), before, 'nothing was saved');

    // A real origin: added with Enter (focus stays in the field for the next one), saved with the whole client body.
    await field().fill(crmOrigin);
    assert.equal(await field().getAttribute('aria-invalid'), null, 'typing clears the error');
    await field().press('Enter');
    await extra().getByText(crmOrigin, { exact: true }).waitFor();
    await card().getByText(`${crmOrigin} added. Save to apply it.`).waitFor();
    assert.equal(await field().evaluate((el) => el === document.activeElement), true);
    await save().click();
    await card().getByText('Saved: 1 extra allowed origin.').waitFor();
    assert.deepEqual(JSON.parse(puts.at(-1)!).allowedOrigins, [crmOrigin]);
    const saved = await crmClient();
    assert.deepEqual(saved.allowedOrigins, [crmOrigin], 'the API returns it');
    assert.deepEqual({ ...saved, allowedOrigins: [] }, before, 'the rest of the client is unchanged');
    assert.equal(await preflight(), crmOrigin, 'the preflight from the CRM origin is answered');

    await page.reload();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    await extra().getByText(crmOrigin, { exact: true }).waitFor();
    assert.deepEqual(await extra().allTextContents(), [`${crmOrigin}Remove`]);
    await screenshot(page, 'admin-applications');

    // Longer than the server takes (300 characters; the console checks only the shape): the server's 400 goes next to the field.
    const longOrigin = `https://${['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(63)).join('.')}.example`;
    await field().fill(longOrigin);
    await card().getByRole('button', { name: 'Add origin' }).click();
    await extra().getByText(longOrigin, { exact: true }).waitFor();
    await save().click();
    await card().getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(field()), /^Allowed origin "https:\/\/a+…" must not have more than 300 characters$/);
    assert.equal(await field().evaluate((el) => el === document.activeElement), true, 'focus moves to the field');
    assert.deepEqual((await crmClient()).allowedOrigins, [crmOrigin], 'nothing was saved');
    await screenshot(page, 'admin-applications-server-error');
    await card().getByRole('button', { name: `Remove ${longOrigin}` }).click();

    // Removed again: the focus goes back to the field, the API drops it, and CORS stops answering for it.
    await card().getByRole('button', { name: `Remove ${crmOrigin}` }).click();
    assert.deepEqual(await extra().allTextContents(), ['None']);
    assert.equal(await field().evaluate((el) => el === document.activeElement), true);
    await save().click();
    await card().getByText('Saved: no extra allowed origins.').waitFor();
    assert.deepEqual(await crmClient(), before);
    assert.equal(await preflight(), null, 'no CORS for the CRM origin after removing it');
  });

  test('a user without the admin role is told so', async () => {
    const agentContext = await chrome.newContext();
    const agentPage = await signInToConsole(agentContext, server.url, 'agent2@demo.test');
    await agentPage.getByRole('heading', { name: 'You need the admin role' }).waitFor();
    await agentPage.getByRole('button', { name: 'Sign out' }).waitFor();
    await agentContext.close();
  });
});
