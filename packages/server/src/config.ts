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

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080, 0, 65535),
    issuer: env.LOCKSTEP_ISSUER?.replace(/\/$/, '') || null,
    dataDir: resolve(env.LOCKSTEP_DATA_DIR || './data'),
    databaseUrl: env.LOCKSTEP_DATABASE_URL || null,
    demo: flag(env.LOCKSTEP_DEMO, true),
    demoPassword: env.LOCKSTEP_DEMO_PASSWORD || null,
    demoClientSecret: env.LOCKSTEP_DEMO_CLIENT_SECRET || null,
    idleTimeoutFloorSeconds: int(env, 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', 300, 1, 300),
    accessTokenTtlSeconds: int(env, 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    logLevel: env.LOG_LEVEL || 'info',
  };
}
