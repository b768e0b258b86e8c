import { effectiveIssuer, LOG_LEVELS, type Config } from '../config.ts';
import { MASK, maskUrl } from '../log-options.ts';

/** One environment variable as `lockstep config` and `--help` show it. */
export interface Setting {
  name: string;
  meaning: string;
  /** The value in effect, as text; secrets come out masked. */
  show(config: Config): string;
}


const secret = (value: string | null, unset: string) => (value ? MASK : unset);
const list = (items: string[], empty: string) => (items.length ? items.join(', ') : empty);

export const SETTINGS: Setting[] = [
  { name: 'PORT', meaning: 'listen port (0: any free port)', show: (c) => String(c.port) },
  { name: 'HOST', meaning: 'listen address', show: (c) => c.host },
  { name: 'LOCKSTEP_ISSUER', meaning: 'public base URL, the iss of every token (http(s), no query or fragment)',
    show: (c) => c.issuer ?? (effectiveIssuer(c) ? `${effectiveIssuer(c)} (from HOST and PORT)` : '(the listen address, known once listening: PORT=0)') },
  { name: 'LOCKSTEP_TLS_CERT', meaning: 'PEM certificate file: serve HTTPS (with LOCKSTEP_TLS_KEY)', show: (c) => c.tls?.certPath ?? '(unset: plain HTTP)' },
  { name: 'LOCKSTEP_TLS_KEY', meaning: 'PEM private key file', show: (c) => c.tls?.keyPath ?? '(unset: plain HTTP)' },
  { name: 'LOCKSTEP_DATA_DIR', meaning: 'embedded SQLite directory', show: (c) => `${c.dataDir}${c.databaseUrl ? ' (unused: the store is PostgreSQL)' : ''}` },
  { name: 'LOCKSTEP_DATABASE_URL', meaning: 'postgres://…: the store shared by the nodes of a cluster', show: (c) => (c.databaseUrl ? maskUrl(c.databaseUrl) : '(unset: SQLite in LOCKSTEP_DATA_DIR)') },
  { name: 'LOCKSTEP_REDIS_URL', meaning: 'redis://…: the bus between cluster nodes', show: (c) => (c.redisUrl ? maskUrl(c.redisUrl) : '(unset: in-process bus)') },
  { name: 'LOCKSTEP_DEMO', meaning: 'seed the demo org on an empty store (on/off)', show: (c) => (c.demo ? 'on' : 'off') },
  { name: 'LOCKSTEP_DEMO_PASSWORD', meaning: 'password of every demo user', show: (c) => secret(c.demoPassword, '(random, printed when the demo org is seeded)') },
  { name: 'LOCKSTEP_DEMO_CLIENT_SECRET', meaning: 'secret of every demo confidential client', show: (c) => secret(c.demoClientSecret, '(random, printed when the demo org is seeded)') },
  { name: 'LOCKSTEP_DEMO_CRM_PORT', meaning: 'port of the demo CRM page on a second site (off: not served)',
    show: (c) => (!c.demo ? 'off (the demo is off)' : c.demoCrmPort == null ? 'off' : String(c.demoCrmPort)) },
  { name: 'LOCKSTEP_BACKCHANNEL_ALLOW', meaning: 'CIDR ranges back-channel logout URIs may reach besides public addresses', show: (c) => list(c.backchannelAllow, 'none') },
  { name: 'LOCKSTEP_TRUST_PROXY', meaning: 'reverse proxies whose X-Forwarded-For names the client', show: (c) => list(c.trustProxy, '(none)') },
  { name: 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS', meaning: 'lowest idle timeout accepted (1–300)', show: (c) => String(c.idleTimeoutFloorSeconds) },
  { name: 'LOCKSTEP_ACCESS_TOKEN_TTL_SECONDS', meaning: 'absolute lifetime of an access token', show: (c) => String(c.accessTokenTtlSeconds) },
  { name: 'LOCKSTEP_METRICS_TOKEN', meaning: 'bearer token /metrics asks for', show: (c) => secret(c.metricsToken, '(unset: /metrics is open)') },
  { name: 'LOG_LEVEL', meaning: LOG_LEVELS.join(', '), show: (c) => c.logLevel },
];
