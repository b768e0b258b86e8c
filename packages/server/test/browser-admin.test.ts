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
  const authSettings = async () => (await call('GET', '/api/v2/organizations/authentication/settings', await admin())).body;
  const hipaaOn = async () => (await call('GET', '/api/v2/organizations/me', await admin())).body.features.hipaa;
  const tokenInfo = async (token: string) => (await call('GET', '/api/v2/tokens/me', token)).body;
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
    assert.equal((await authSettings()).universalLogout, true);
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
  });

  test('excluded paths have their own form: checked, refused with the server\'s message, saved to the authentication settings', async () => {
    const card = page.getByRole('region', { name: 'Idle timeout exclusions' });
    const paths = card.getByLabel('Excluded paths');
    const save = card.getByRole('button', { name: 'Save excluded paths' });
    const presencePath = '/api/v2/users/*/presences/purecloud';
    assert.deepEqual((await authSettings()).inactivityTimeoutExclusions, []);
    const patches: string[] = [];
    const onRequest = (r: { method(): string; url(): string; postData(): string | null }) => {
      if (r.method() === 'PATCH' && r.url().endsWith('/api/v2/organizations/authentication/settings')) patches.push(r.postData() ?? '');
    };
    page.on('request', onRequest);

    // Not an API path: the console refuses it without asking the server.
    await paths.fill(`${presencePath}\nusers`);
    await save.click();
    await card.getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(paths), /"users" is not an API path/);
    assert.deepEqual(patches, [], 'nothing was sent');

    // An API path the server refuses: its message, in the console's words, goes next to the textarea.
    await paths.fill(`${presencePath}\n/api/v2/users?x`);
    await save.click();
    await card.getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(paths), /^Excluded path "\/api\/v2\/users\?x" must be an \/api\/\.\.\. path/);
    assert.equal(await paths.getAttribute('aria-invalid'), 'true');
    assert.deepEqual((await authSettings()).inactivityTimeoutExclusions, [], 'nothing was saved');

    // Saved once each, with nothing but the exclusions in the PATCH; the idle timeout settings have no paths any more.
    await paths.fill(`${presencePath}\n\n${presencePath}`);
    assert.equal(await paths.getAttribute('aria-invalid'), null, 'typing clears the error');
    await save.click();
    await card.getByText('Saved: 1 excluded path.').waitFor();
    assert.deepEqual(JSON.parse(patches.at(-1)!), { inactivityTimeoutExclusions: [presencePath] });
    assert.deepEqual(await authSettings(), { universalLogout: true, inactivityTimeoutExclusions: [presencePath] });
    assert.equal(await paths.inputValue(), presencePath);
    assert.equal('excludedPaths' in (await idleSettings()), false);
    page.off('request', onRequest);
  });

  test('HIPAA: enabling it over the cap is refused with what to lower; once on, the field says so', async () => {
    await setTimeoutTo('1', 'hours');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    const inHours = await idleSettings();
    assert.deepEqual([inHours.idleTokenTimeoutSeconds, inHours.inactivityTimeoutUnit], [3600, 'HOURS'], 'saved with the unit chosen');
    const hipaa = page.getByRole('switch', { name: 'HIPAA compliance' });
    await hipaa.check();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Not saved.').waitFor();
    assert.match(await errorNextTo(hipaa), /Lower the idle timeout \(now 1 hour\)/);
    assert.equal(await hipaa.isChecked(), false, 'the switch shows what is saved');
    assert.equal(await hipaaOn(), false);

    await setTimeoutTo('15', 'minutes');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    await hipaa.check();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Saved: HIPAA compliance is on.').waitFor();
    assert.equal(await hipaaOn(), true);
    await page.getByText('HIPAA is enabled: at most 15 minutes.').first().waitFor();
    await setTimeoutTo('20', 'minutes');
    assert.match(await errorNextTo(timeoutInput()), /HIPAA is enabled: the idle timeout can be at most 15 minutes/);
    await hipaa.uncheck();
    await page.getByRole('button', { name: 'Save HIPAA setting' }).click();
    await page.getByText('Saved: HIPAA compliance is off.').waitFor();
    assert.equal(await hipaaOn(), false);
  });

  test('a group bundle is added with the editor: priority, timeout and groups from the org; it applies to the members at once', async () => {
    // The agent joins the group (POST .../members) with a live token, before the bundle exists.
    const desktop = (await signIn(server.url, new Browser(), { clientId: 'agent-desktop' }, agent)).tokens.access_token;
    const agentId = (await tokenInfo(desktop)).user.id;
    const added = await call('POST', `/api/v2/groups/${nightShiftId}/members`, await admin(), { memberIds: [agentId] });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual([added.body.memberCount, added.body.memberIds], [1, [agentId]]);

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
    assert.deepEqual(saved.inactivityTimeoutGroupBundles, [{ priority: 1, timeoutSeconds: 600, inactivityTimeoutUnit: 'MINUTES', groups: [nightShiftId] }]);

    const applied = await tokenInfo(desktop);
    assert.equal(applied.idleTimeoutSeconds, 600, 'saving re-timed the member\'s live token');
    const idlesIn = Date.parse(applied.dateTokenIdles) - Date.now();
    assert.ok(idlesIn > 0 && idlesIn <= 600_000, `dateTokenIdles ${applied.dateTokenIdles} is within the bundle's 10 minutes`);
    assert.equal('idleExpiresAt' in applied, false);
    assert.equal(applied.OAuthClient.id, 'agent-desktop');

    const removed = await call('DELETE', `/api/v2/groups/${nightShiftId}/members?ids=${agentId}`, await admin());
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual([removed.body.memberCount, removed.body.memberIds], [0, []]);
  });

  test('15 minutes is saved, and the next logout is universal without a restart', async () => {
    await setTimeoutTo('15', 'minutes');
    await page.getByText('Saved: the idle timeout is on.').waitFor();
    assert.equal(await errorNextTo(timeoutInput()), '');
    const saved = await idleSettings();
    assert.equal(saved.enableIdleTokenTimeout, true);
    assert.equal(saved.idleTokenTimeoutSeconds, 900);
    assert.equal(saved.inactivityTimeoutUnit, 'MINUTES');

    // A reload shows what is saved, each timeout in the unit it was saved in.
    await page.reload();
    assert.equal(await timeoutInput().inputValue(), '15');
    assert.equal(await page.getByLabel('Timeout unit').first().inputValue(), 'MINUTES');
    const bundle = page.getByRole('group', { name: 'Group bundle 1' });
    assert.equal(await bundle.getByLabel('Timeout', { exact: true }).inputValue(), '10');
    assert.equal(await bundle.getByLabel('Timeout unit').inputValue(), 'MINUTES');
    assert.equal(await page.getByLabel('Excluded paths').inputValue(), '/api/v2/users/*/presences/purecloud');

    const { desktop, crm } = await agentOnTwoClients();
    assert.equal((await call('DELETE', '/api/v2/tokens/me', desktop)).status, 204);
    assert.equal(await head(desktop), 401);
    assert.equal(await head(crm), 401, 'universal logout, switched on in the console, ended the other client too');
  });

  test('"Log off" on the Users page signs the agent out of every client, and the audit log shows it', async () => {
    const { desktop, crm } = await agentOnTwoClients();
    const agentId = (await tokenInfo(desktop)).user.id;
    const definitions = (await call('GET', '/api/v2/presence/definitions', desktop)).body.entities;
    const onQueue = definitions.find((d: { systemPresence: string }) => d.systemPresence === 'On Queue');
    // "On Queue" also puts the agent's routing status to IDLE.
    assert.equal((await call('PATCH', `/api/v2/users/${agentId}/presences/purecloud`, desktop, { presenceDefinition: { id: onQueue.id } })).status, 200);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const row = page.locator('tr[data-user="agent@demo.test"]');
    await row.getByText('Agent Desktop').waitFor();
    await row.getByText('CRM (embedded)').waitFor();
    assert.equal(await row.locator('.pill').textContent(), 'On Queue');
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
    // The filtered table replaces the unfiltered one: wait until it has, not just for a matching row (the old table had some too).
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('tbody tr')];
      return rows.length > 0 && rows.every((r) => r.dataset.kind === 'admin_logoff');
    });
    const entry = page.locator('tr[data-kind="admin_logoff"]').first();
    assert.match((await entry.textContent()) ?? '', /agent@demo\.test/);
    assert.match((await entry.textContent()) ?? '', /by admin@demo\.test/);
    assert.equal(await page.locator('tbody tr').count(), await page.locator('tr[data-kind="admin_logoff"]').count(), 'the kind filter applies');
    await page.getByLabel('Kind').selectOption('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tr[data-kind="settings_changed"]').first().waitFor();
    await screenshot(page, 'admin-audit');
  });

  test('the audit log shows 100 entries a page, newest first; the pager keeps the filters applied', async () => {
    const token = await admin();
    const settingsChanges = async () => (await call('GET', '/api/v2/audits?kind=settings_changed&pageSize=1', token)).body.total;
    // Every saved settings change is audited, an unchanged value too: enough of them for a second page.
    for (let n = await settingsChanges(); n <= 100; n++) {
      assert.equal((await call('PATCH', '/api/v2/organizations/authentication/settings', token, { universalLogout: true })).status, 200);
    }
    const total = await settingsChanges();
    const rows = page.locator('tbody tr[data-kind="settings_changed"]');
    const times = async () => rows.locator('time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime')!));
    const newer = page.getByRole('button', { name: 'Newer entries' });
    const older = page.getByRole('button', { name: 'Older entries' });

    await page.getByLabel('Kind').selectOption('settings_changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(`Entries 1–100 of ${total}, newest first.`).waitFor();
    const firstPage = await times();
    assert.equal(firstPage.length, 100);
    assert.deepEqual(firstPage, [...firstPage].sort().reverse(), 'newest first');
    assert.equal(await newer.isDisabled(), true);

    await page.getByLabel('Kind').selectOption(''); // not applied: the next page is still of settings changes
    await older.click();
    await page.getByText(`Entries 101–${total} of ${total}, newest first.`).waitFor();
    assert.equal(await page.locator('tbody tr').count(), total - 100);
    assert.equal(await rows.count(), total - 100);
    assert.ok((await times())[0]! <= firstPage.at(-1)!, 'the second page is older');
    assert.equal(await older.isDisabled(), true);
    await newer.click();
    await page.getByText(`Entries 1–100 of ${total}, newest first.`).waitFor();
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
