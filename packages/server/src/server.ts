import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { logOptions } from './log-options.ts';
import { join } from 'node:path';
import { createAuthority, type Authority } from './authority/authority.ts';
import { InProcessBus } from './bus/in-process-bus.ts';
import type { Bus } from './bus/events.ts';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from './config.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { compactOldSpace } from './heap-tuning.ts';
import { buildHttp } from './http/server.ts';
import { seedDemo, type DemoCredentials } from './seed/demo.ts';
import { buildCrmHost, crmHostName } from './web/crm-host.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

export interface RunningServer {
  url: string;
  /** The demo CRM host page on a second site, or null when the demo is off. */
  crmUrl: string | null;
  authority: Authority;
  http: FastifyInstance;
  demo: DemoCredentials | null;
  /**
   * Channels are told and closed with 1001, requests in flight finish, back-channel deliveries in flight get
   * `graceMs` (default 0) to be recorded, then everything else is stopped and closed. Nothing of the outbox is lost:
   * rows not delivered stay in the store.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only for a cluster: pg is not needed to start on SQLite.
    const { PostgresStore } = await import('./store/postgres/postgres-store.ts');
    return PostgresStore.open(config.databaseUrl);
  }
  return new SqliteStore(join(config.dataDir, 'lockstep.sqlite'));
}

/** A shared store makes this process one node of a cluster: it holds a lease, and Redis (when set) carries events between nodes. */
async function joinCluster(config: Config, log: Logger): Promise<{ bus: Bus; nodeId: string | null }> {
  if (!config.databaseUrl) return { bus: new InProcessBus(), nodeId: null };
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!config.redisUrl) {
    log.warn('LOCKSTEP_REDIS_URL is not set: other nodes learn of revocations and changes at their next lease renewal only, and channel events stay on the node that raised them');
  }
  return { bus: await openBus(config, log, nodeId), nodeId };
}

/** Redis when LOCKSTEP_REDIS_URL is set (loaded only then), else the in-process bus. */
export async function openBus(config: Config, log: Logger, nodeId: string): Promise<Bus> {
  if (!config.redisUrl) return new InProcessBus();
  const { RedisBus } = await import('./bus/redis-bus.ts');
  return RedisBus.connect(config.redisUrl, { nodeId, log });
}

function readTls(config: Config): { cert: Buffer; key: Buffer } | null {
  if (!config.tls) return null;
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  };
  return { cert: read('LOCKSTEP_TLS_CERT', config.tls.certPath), key: read('LOCKSTEP_TLS_KEY', config.tls.keyPath) };
}

/** Opens the store, seeds the demo org when asked, and listens. Everything is closed again by close(). */
export async function startServer(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<RunningServer> {
  // First thing: set once the server had started, it left a test process that never exited (docs/testing.md).
  compactOldSpace();
  const log = opts.log ?? pino(logOptions(config.logLevel));
  const clock = opts.clock ?? systemClock;
  const tls = readTls(config);
  const store = await openStore(config);
  const { bus, nodeId } = await joinCluster(config, log).catch(async (err) => {
    await store.close();
    throw err;
  });
  let issuer = config.issuer;
  let crmUrl: string | null = null;
  const authority = await createAuthority({
    config, store, bus, clock, log, nodeId,
    issuer: () => {
      if (!issuer) throw new Error('issuer is not known before the server listens');
      return issuer;
    },
    demoCrmOrigin: () => crmUrl && new URL(crmUrl).origin,
  });
  const http = await buildHttp(authority, tls);
  const address = await http.listen({ port: config.port, host: config.host });
  issuer ??= address.replace('://localhost', '://127.0.0.1');
  // Made or read in the background while the routes were built (a new store's RSA key takes 100-250 ms).
  await authority.keys.ready();
  // Seeded once the issuer is known: the demo clients' URIs follow it (PORT=0 included).
  const demo = config.demo ? await seedDemo(authority) : null;
  const crm = config.demo && config.demoCrmPort != null ? await buildCrmHost(authority) : null;
  if (crm) {
    const port = new URL(await crm.listen({ port: config.demoCrmPort!, host: config.host })).port;
    crmUrl = `http://${crmHostName(issuer)}:${port}/`;
  }
  await authority.membership.start();
  authority.ledger.start();
  authority.hub.start();
  authority.backchannel.start();
  authority.retention.start();

  let closing: Promise<void> | null = null;
  return {
    url: issuer,
    crmUrl,
    authority,
    http,
    demo,
    close: (opts = {}) =>
      (closing ??= (async () => {
        authority.hub.close();
        await crm?.close();
        await http.close();
        authority.retention.stop();
        await authority.backchannel.stop(opts.graceMs);
        await authority.ledger.stop();
        await authority.membership.stop();
        await bus.close();
        await store.close();
      })()),
  };
}
