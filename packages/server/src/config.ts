import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
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
  /** LOCKSTEP_METRICS_TOKEN: the bearer token /metrics asks for; null: /metrics is open. */
  metricsToken: string | null;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw == null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

const ON = ['1', 'true', 'on', 'yes'];
const OFF = ['0', 'false', 'off', 'no'];

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (ON.includes(raw)) return true;
  if (OFF.includes(raw)) return false;
  throw new ConfigError(`${name} must be on or off (also true/false, yes/no, 1/0), got "${env[name]}"`);
}

/** pino's levels: anything else would make the logger throw at start, with a stack trace instead of a message. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: NodeJS.ProcessEnv): string {
  const raw = env.LOG_LEVEL?.trim();
  if (!raw) return 'info';
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return raw;
}

function host(env: NodeJS.ProcessEnv): string {
  const raw = env.HOST?.trim();
  if (!raw) return '127.0.0.1';
  if (!isIP(raw) && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(raw)) {
    throw new ConfigError(`HOST must be an IP address or a host name to listen on (such as 127.0.0.1, 0.0.0.0 or ::), got "${raw}"`);
  }
  return raw;
}

/** The issuer identifier (OIDC Discovery, RFC 8414): an http(s) URL with no query, fragment or credentials. */
function issuer(env: NodeJS.ProcessEnv): string | null {
  const raw = env.LOCKSTEP_ISSUER?.trim();
  if (!raw) return null;
  const form = 'the public base URL clients reach Lockstep at, such as https://login.example.com';
  if (!URL.canParse(raw)) throw new ConfigError(`LOCKSTEP_ISSUER is not a URL ("${raw}"): write ${form}`);
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`LOCKSTEP_ISSUER must start with https:// or http://, got "${raw}": write ${form}`);
  if (raw.includes('?') || raw.includes('#')) throw new ConfigError(`LOCKSTEP_ISSUER must have no query or fragment (an issuer identifier has none), got "${raw}"`);
  if (url.username || url.password) throw new ConfigError('LOCKSTEP_ISSUER must not carry a user name or password');
  return raw.replace(/\/$/, '');
}

function metricsToken(env: NodeJS.ProcessEnv): string | null {
  const raw = env.LOCKSTEP_METRICS_TOKEN;
  if (!raw) return null;
  // The characters of a bearer token (RFC 6750 b64token): anything else could never be sent as one.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(raw)) throw new ConfigError('LOCKSTEP_METRICS_TOKEN must be a bearer token: letters, digits and - . _ ~ + / (then = padding only)');
  return raw;
}

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

/** Every variable Lockstep reads; a LOCKSTEP_ name that is not one of them is most likely a typo. */
export const ENV_NAMES = [
  'PORT', 'HOST', 'LOCKSTEP_ISSUER', 'LOCKSTEP_TLS_CERT', 'LOCKSTEP_TLS_KEY', 'LOCKSTEP_DEMO_CRM_PORT', 'LOCKSTEP_TRUST_PROXY',
  'LOCKSTEP_DATA_DIR', 'LOCKSTEP_DATABASE_URL', 'LOCKSTEP_REDIS_URL', 'LOCKSTEP_DEMO', 'LOCKSTEP_BACKCHANNEL_ALLOW',
  'LOCKSTEP_DEMO_PASSWORD', 'LOCKSTEP_DEMO_CLIENT_SECRET', 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS',
  'LOG_LEVEL', 'LOCKSTEP_METRICS_TOKEN',
] as const;

/** The test suite's and the benchmarks' own variables (LOCKSTEP_TEST_*, LOCKSTEP_BENCH_*) are not settings of the server, nor typos. */
export const unknownLockstepVariables = (env: NodeJS.ProcessEnv = process.env): string[] =>
  Object.keys(env).filter((k) => k.startsWith('LOCKSTEP_') && !/^LOCKSTEP_(TEST|BENCH)_/.test(k) && !(ENV_NAMES as readonly string[]).includes(k));

/** Reads and checks every variable; a ConfigError names each one that is wrong (one line each), not only the first. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const read = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
      return fallback;
    }
  };
  const port = read(() => int(env, 'PORT', 8080, 0, 65535), 8080);
  const demo = read(() => flag(env, 'LOCKSTEP_DEMO', true), true);
  if (env.LOCKSTEP_REDIS_URL?.trim() && !env.LOCKSTEP_DATABASE_URL?.trim()) {
    problems.push('LOCKSTEP_REDIS_URL is for a cluster, whose nodes share a PostgreSQL store: set LOCKSTEP_DATABASE_URL too, or unset LOCKSTEP_REDIS_URL');
  }
  const config: Config = {
    host: read(() => host(env), '127.0.0.1'),
    port,
    issuer: read(() => issuer(env), null),
    dataDir: resolve(env.LOCKSTEP_DATA_DIR || './data'),
    databaseUrl: read(() => serviceUrl(env, 'LOCKSTEP_DATABASE_URL', ['postgres', 'postgresql'], 'postgres://user@host:5432/lockstep'), null),
    redisUrl: read(() => serviceUrl(env, 'LOCKSTEP_REDIS_URL', ['redis', 'rediss'], 'redis://host:6379'), null),
    demo,
    demoPassword: env.LOCKSTEP_DEMO_PASSWORD || null,
    demoClientSecret: env.LOCKSTEP_DEMO_CLIENT_SECRET || null,
    demoCrmPort: read(() => crmPort(env, port), null),
    tls: read(() => tls(env), null),
    idleTimeoutFloorSeconds: read(() => int(env, 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', 300, 1, 300), 300),
    accessTokenTtlSeconds: read(() => int(env, 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS', 86_400, 60, 30 * 86_400), 86_400),
    backchannelAllow: read(() => backchannelAllow(env, demo), []),
    logLevel: read(() => logLevel(env), 'info'),
    trustProxy: read(() => parseTrustProxy(env.LOCKSTEP_TRUST_PROXY), []),
    metricsToken: read(() => metricsToken(env), null),
  };
  if (problems.length) throw new ConfigError(problems.join('\n'));
  return config;
}

/** The issuer a server with this configuration announces: LOCKSTEP_ISSUER, else its listen address (as the server derives it). */
export function effectiveIssuer(config: Config): string | null {
  if (config.issuer) return config.issuer;
  if (config.port === 0) return null;
  // What Fastify's listen answers for these hosts, which the server takes as its issuer.
  const host = ['0.0.0.0', 'localhost'].includes(config.host) ? '127.0.0.1' : isIP(config.host) === 6 ? `[${config.host}]` : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${config.port}`;
}

/**
 * The SQLite directory can be created and written (checked before anything opens it, so the answer is
 * a message, not a driver's stack trace). A shared PostgreSQL store needs no directory.
 */
export function checkDataDir(config: Config): void {
  if (config.databaseUrl) return;
  const stat = (path: string) => {
    try {
      return statSync(path);
    } catch {
      return null; // missing, or under a file (ENOTDIR): the loop walks up to what is there
    }
  };
  let path = config.dataDir;
  while (!stat(path) && dirname(path) !== path) path = dirname(path);
  const what = path === config.dataDir ? `LOCKSTEP_DATA_DIR ${config.dataDir}` : `LOCKSTEP_DATA_DIR ${config.dataDir} cannot be created: ${path}`;
  if (!stat(path)?.isDirectory()) throw new ConfigError(`${what} is not a directory`);
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ConfigError(`${what} is not writable by this user (${(err as NodeJS.ErrnoException).code})`);
  }
}
