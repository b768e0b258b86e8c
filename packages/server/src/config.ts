import { resolve } from 'node:path';

export interface Config {
  host: string;
  port: number;
  /** Public base URL; derived from the listen address when unset. */
  issuer: string | null;
  dataDir: string;
  databaseUrl: string | null;
  demo: boolean;
  demoPassword: string | null;
  demoClientSecret: string | null;
  /** Port of the demo CRM host page, a second site embedding the widget; null: not served. */
  demoCrmPort: number | null;
  /** PEM files: serve HTTPS. */
  tls: { certPath: string; keyPath: string } | null;
  idleTimeoutFloorSeconds: number;
  accessTokenTtlSeconds: number;
  logLevel: string;
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

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  return {
    host: env.HOST || '127.0.0.1',
    port,
    issuer: env.LOCKSTEP_ISSUER?.replace(/\/$/, '') || null,
    dataDir: resolve(env.LOCKSTEP_DATA_DIR || './data'),
    databaseUrl: env.LOCKSTEP_DATABASE_URL || null,
    demo: flag(env.LOCKSTEP_DEMO, true),
    demoPassword: env.LOCKSTEP_DEMO_PASSWORD || null,
    demoClientSecret: env.LOCKSTEP_DEMO_CLIENT_SECRET || null,
    demoCrmPort: crmPort(env, port),
    tls: tls(env),
    idleTimeoutFloorSeconds: int(env, 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', 300, 1, 300),
    accessTokenTtlSeconds: int(env, 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    logLevel: env.LOG_LEVEL || 'info',
  };
}
