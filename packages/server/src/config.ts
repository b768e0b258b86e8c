import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { LOOPBACK_RANGES, parseCidr } from './core/backchannel-address.ts';

export interface Config {
  host: string;
  port: number;
  /** Public base URL; derived from the listen address when unset. */
  issuer: string | null;
  dataDir: string;
  /** PostgreSQL (LOCKSTEP_DATABASE_URL): the store shared by the nodes of a cluster; null: the embedded SQLite file. */
  databaseUrl: string | null;
  /** Redis (LOCKSTEP_REDIS_URL): the bus between the nodes; null: in-process (nodes then learn of changes at each lease renewal). */
  redisUrl: string | null;
  demo: boolean;
  demoPassword: string | null;
  demoClientSecret: string | null;
  /** Port of the demo CRM host page, a second site embedding the widget; null: not served. */
  demoCrmPort: number | null;
  /** PEM files: serve HTTPS. */
  tls: { certPath: string; keyPath: string } | null;
  idleTimeoutFloorSeconds: number;
  accessTokenTtlSeconds: number;
  /**
   * IP ranges (CIDR, canonical text) back-channel logout URIs may reach besides public addresses,
   * plain http included (LOCKSTEP_BACKCHANNEL_ALLOW). Default: loopback when the demo is on (its
   * crm-backend receiver is Lockstep itself), nothing otherwise.
   */
  backchannelAllow: string[];
  logLevel: string;
  /**
   * Proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, or proxy-addr's names `loopback`,
   * `linklocal`, `uniquelocal`); empty: none, the socket address is the client address.
   */
  trustProxy: string[];
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw == null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

const flag = (raw: string | undefined, fallback: boolean) =>
  raw == null || raw === '' ? fallback : !['0', 'false', 'off', 'no'].includes(raw.toLowerCase());

function tls(env: NodeJS.ProcessEnv): Config['tls'] {
  const cert = env.LOCKSTEP_TLS_CERT || null;
  const key = env.LOCKSTEP_TLS_KEY || null;
  if (!cert && !key) return null;
  if (!cert || !key) throw new ConfigError('LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY go together: set both PEM file paths, or neither');
  return { certPath: resolve(cert), keyPath: resolve(key) };
}

function crmPort(env: NodeJS.ProcessEnv, port: number): number | null {
  if (['off', 'false', 'no', '-'].includes(env.LOCKSTEP_DEMO_CRM_PORT?.toLowerCase() ?? '')) return null;
  return int(env, 'LOCKSTEP_DEMO_CRM_PORT', port === 0 ? 0 : Math.min(port + 1, 65535), 0, 65535);
}

function backchannelAllow(env: NodeJS.ProcessEnv, demo: boolean): string[] {
  const raw = env.LOCKSTEP_BACKCHANNEL_ALLOW?.trim();
  if (!raw) return demo ? [...LOOPBACK_RANGES] : [];
  if (['none', 'off', '-'].includes(raw.toLowerCase())) return [];
  return raw.split(',').map((entry) => {
    const cidr = parseCidr(entry.trim());
    if (!cidr) {
      throw new ConfigError(`LOCKSTEP_BACKCHANNEL_ALLOW entry "${entry.trim()}" is not an IP range: write CIDR ranges such as 10.0.0.0/8, fd00::/8 or 127.0.0.1 (no host bits beyond the prefix), comma-separated, or "none"`);
    }
    return cidr.text;
  });
}

const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** 'all' for an entry that would trust every sender (`true`, `*`, a /0 range). */
function proxyEntry(entry: string): 'ok' | 'all' | 'bad' {
  if (NAMED_RANGES.includes(entry)) return 'ok';
  if (['true', 'yes', 'on', '*', 'all', '1'].includes(entry.toLowerCase())) return 'all';
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || address.includes('%') || rest.length) return 'bad';
  if (prefix === undefined) return 'ok';
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return 'bad';
  return Number(prefix) === 0 ? 'all' : 'ok';
}

/** LOCKSTEP_TRUST_PROXY: a comma-separated list of proxy addresses or CIDR ranges; unset or empty: no proxy is trusted. */
export function parseTrustProxy(raw: string | undefined): string[] {
  if (raw == null || raw.trim() === '') return [];
  const entries = raw.split(',').map((e) => e.trim());
  const form = 'a comma-separated list of proxy addresses or CIDR ranges (such as "10.0.0.5, 10.1.0.0/16, ::1"), or unset to trust no proxy';
  for (const entry of entries) {
    const kind = proxyEntry(entry);
    if (kind === 'all') {
      throw new ConfigError(`LOCKSTEP_TRUST_PROXY must name the proxies to trust, not "${entry}": trusting every sender would let any client choose the address it is counted under. Use ${form}`);
    }
    if (kind === 'bad') {
      throw new ConfigError(`LOCKSTEP_TRUST_PROXY must be ${form}; "${entry || '(empty)'}" in "${raw}" is neither an IP address nor a CIDR range`);
    }
  }
  return entries;
}

function serviceUrl(env: NodeJS.ProcessEnv, name: string, schemes: string[], example: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL; write it as ${example}`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) throw new ConfigError(`${name} must start with ${schemes.map((s) => `${s}://`).join(' or ')}, as in ${example}`);
  return raw;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const demo = flag(env.LOCKSTEP_DEMO, true);
  if (env.LOCKSTEP_REDIS_URL?.trim() && !env.LOCKSTEP_DATABASE_URL?.trim()) {
    throw new ConfigError('LOCKSTEP_REDIS_URL is for a cluster, whose nodes share a PostgreSQL store: set LOCKSTEP_DATABASE_URL too, or unset LOCKSTEP_REDIS_URL');
  }
  return {
    host: env.HOST || '127.0.0.1',
    port,
    issuer: env.LOCKSTEP_ISSUER?.replace(/\/$/, '') || null,
    dataDir: resolve(env.LOCKSTEP_DATA_DIR || './data'),
    databaseUrl: serviceUrl(env, 'LOCKSTEP_DATABASE_URL', ['postgres', 'postgresql'], 'postgres://user@host:5432/lockstep'),
    redisUrl: serviceUrl(env, 'LOCKSTEP_REDIS_URL', ['redis', 'rediss'], 'redis://host:6379'),
    demo,
    demoPassword: env.LOCKSTEP_DEMO_PASSWORD || null,
    demoClientSecret: env.LOCKSTEP_DEMO_CLIENT_SECRET || null,
    demoCrmPort: crmPort(env, port),
    tls: tls(env),
    idleTimeoutFloorSeconds: int(env, 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', 300, 1, 300),
    accessTokenTtlSeconds: int(env, 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    backchannelAllow: backchannelAllow(env, demo),
    logLevel: env.LOG_LEVEL || 'info',
    trustProxy: parseTrustProxy(env.LOCKSTEP_TRUST_PROXY),
  };
}
