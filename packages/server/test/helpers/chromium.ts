import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go (git ignores it). */
export const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

/**
 * Debian's chromium driven by playwright-core. Without it the browser tests skip with a loud
 * message — except under CI=true, where a missing browser is a failure.
 */
export function chromiumOrSkip(): { skip: string | false } {
  if (existsSync(CHROMIUM)) return { skip: false };
  const message = `Chromium not found at ${CHROMIUM}: browser tests SKIPPED (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(message + ' — CI=true requires it');
  console.warn(`\n!!! ${message}\n`);
  return { skip: message };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
