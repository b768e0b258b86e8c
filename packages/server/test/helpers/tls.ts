import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

export interface TestCertificate {
  /** PEM of the certificate and of its private key. */
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** base64 SHA-256 of the certificate's public key (SPKI), for `--ignore-certificate-errors-spki-list`. */
  spki: string;
  /** The host names (DNS SANs) the certificate names; 127.0.0.1 is in it as an IP SAN too. */
  hostNames: string[];
  /** Deletes the temp directory of the PEM files. */
  remove(): void;
}

/**
 * A throwaway self-signed certificate made with the `openssl` CLI in a temp directory, valid for
 * `hostNames` and 127.0.0.1 for two days. Chromium accepts it as valid when started with
 * `--ignore-certificate-errors-spki-list=<spki>` (see `tlsChromiumArgs`); Node trusts it with `{ ca: cert }`.
 */
export function makeTestCertificate(hostNames: string[]): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const san = [...hostNames.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=Lockstep test certificate', '-keyout', keyPath, '-out', certPath,
    '-addext', `subjectAltName=${san}`, '-addext', 'extendedKeyUsage=serverAuth',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cert = readFileSync(certPath, 'utf8');
  const key = readFileSync(keyPath, 'utf8');
  const der = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  const spki = createHash('sha256').update(der).digest('base64');
  return { cert, key, certPath, keyPath, spki, hostNames, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Chromium flags for HTTPS test sites: this certificate counts as valid (so Secure and SameSite=None
 * cookies behave as on a real site), and every `*.test` name resolves to 127.0.0.1.
 */
export function tlsChromiumArgs(certificate: Pick<TestCertificate, 'spki'>): string[] {
  return [`--ignore-certificate-errors-spki-list=${certificate.spki}`, '--host-resolver-rules=MAP *.test 127.0.0.1'];
}

/**
 * The flags of helpers/chromium.ts launchChromium, plus `tlsChromiumArgs`; and Chromium's own popup blocker,
 * which playwright-core turns off by default (`--disable-popup-blocking`): a `window.open` without a user
 * gesture is blocked, as in a browser people use.
 */
export function launchChromiumTls(certificate: Pick<TestCertificate, 'spki'>): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ignoreDefaultArgs: ['--disable-popup-blocking'],
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', ...tlsChromiumArgs(certificate)],
  });
}

/** Resolves every `*.test` name to 127.0.0.1 (as Chromium's host-resolver rule does), anything else normally. */
const testLookup: LookupFunction = (hostname, options, callback) => {
  if (!hostname.endsWith('.test')) return void import('node:dns').then((dns) => dns.lookup(hostname, options, callback));
  if ((options as { all?: boolean }).all) (callback as any)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

export interface TrustedResponse {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

/**
 * A small fetch for Node against the HTTPS test servers: trusts `ca` only (no
 * NODE_TLS_REJECT_UNAUTHORIZED), checks the host name against the certificate, and resolves
 * `*.test` to 127.0.0.1. No redirects are followed.
 */
export function trustedFetch(ca: string) {
  return (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TrustedResponse> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method: init.method ?? 'GET', headers: init.headers, ca, lookup: testLookup }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value == null ? [] : [value]) headers.append(name, v);
          }
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, headers, text, json: () => (text ? JSON.parse(text) : null) });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
}
