// Child process of the cluster benchmark: one real cluster node (startServer on PostgreSQL and Redis, as
// `lockstep start` runs it), plus a bare Fastify route beside it when CLUSTER_BARE is set (the hot-path
// baseline, same process as in bench/servers.ts). The parent talks to it over IPC:
//   {type:'seed', users} → users × [agent-desktop, crm-embedded] tokens, written to the store and tracked by
//     this node's ledger (as if issued here); universal logout on. Replies with the raw tokens.
//   {type:'memory'} → process.memoryUsage() after a full GC, open channels, tracked tokens.
import { randomBytes } from 'node:crypto';
import { newId } from '../src/core/ids.ts';
import Fastify from 'fastify';
import pg from 'pg';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { configFromEnv } from '../src/config.ts';
import type { AccessToken, User } from '../src/core/records.ts';
import { sha256, TOKEN_PREFIX } from '../src/core/secrets.ts';
import { startServer } from '../src/server.ts';
import { accessTokenColumns, userColumns } from '../src/store/postgres/rows.ts';
import { insertMany } from '../src/store/postgres/sql.ts';

export interface NodeReady { type: 'ready'; url: string; bareUrl: string | null }
export interface NodeMemory { type: 'memory'; usage: NodeJS.MemoryUsage; channels: number; trackedTokens: number }
export interface NodeSeeded { type: 'seed'; users: { userId: string; tokens: [string, string] }[]; error?: string }
export type NodeReply = NodeReady | NodeMemory | NodeSeeded;

const env = process.env;
const ORG = 'demo';
const CLIENTS = ['agent-desktop', 'crm-embedded'] as const;
const BATCH = 10_000;

// startServer has no bus channel setting: the bench's nodes use a channel of their own, so nothing else on this Redis hears them.
const channel = env.CLUSTER_BUS_CHANNEL;
if (!channel) throw new Error('CLUSTER_BUS_CHANNEL is not set');
const connect = RedisBus.connect;
RedisBus.connect = (url, opts) => connect.call(RedisBus, url, { ...opts, channel });

let bareUrl: string | null = null;
if (env.CLUSTER_BARE) {
  const bare = Fastify({ logger: false });
  bare.head('/bare', async (_request, reply) => reply.code(200).header('content-length', 0).send());
  bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
}

const server = await startServer(configFromEnv({
  PORT: env.PORT ?? '0', LOCKSTEP_ISSUER: env.LOCKSTEP_ISSUER, LOCKSTEP_DATABASE_URL: env.LOCKSTEP_DATABASE_URL, LOCKSTEP_REDIS_URL: env.LOCKSTEP_REDIS_URL,
  LOG_LEVEL: 'warn', LOCKSTEP_DEMO_PASSWORD: 'bench-password', LOCKSTEP_DEMO_CLIENT_SECRET: 'bench-secret', LOCKSTEP_DEMO_CRM_PORT: 'off',
}));
const { authority } = server;
const url = `http://127.0.0.1:${(server.http.server.address() as { port: number }).port}`;

async function seed(count: number): Promise<NodeSeeded> {
  const { ledger, settings } = authority;
  const now = Date.now();
  const users: User[] = [];
  const records: AccessToken[] = [];
  const reply: NodeSeeded = { type: 'seed', users: [] };
  for (let i = 0; i < count; i++) {
    const user: User = {
      id: newId(), orgId: ORG, email: `cluster-${i}@demo.test`, name: `Cluster Agent ${i}`, passwordHash: null,
      roles: ['agent'], version: 1, createdAt: now, updatedAt: now,
    };
    users.push(user);
    const raw = CLIENTS.map(() => TOKEN_PREFIX.accessToken + randomBytes(32).toString('base64url')) as [string, string];
    CLIENTS.forEach((clientId, c) => records.push({
      id: newId(), hash: sha256(raw[c]!), orgId: ORG, userId: user.id, clientId, sessionId: null, grantId: newId(),
      scope: 'openid', issuedAt: now, expiresAt: now + 86_400_000, lastActivityAt: now, idleDeadlineAt: null, revokedAt: null, revokeReason: null,
    }));
    reply.users.push({ userId: user.id, tokens: raw });
  }
  // Multi-row inserts on a connection of its own (10,000 single-row commits would only measure the database's fsync).
  const db = new pg.Pool({ connectionString: env.LOCKSTEP_DATABASE_URL, max: 1 });
  try {
    for (let i = 0; i < users.length; i += BATCH) await insertMany(db, 'users', users.slice(i, i + BATCH).map(userColumns));
    for (let i = 0; i < records.length; i += BATCH) await insertMany(db, 'access_tokens', records.slice(i, i + BATCH).map(accessTokenColumns));
  } finally {
    await db.end();
  }
  for (const r of records) await ledger.track(r); // this node's cache knows them, as if just issued here
  await settings.save(ORG, { ...(await settings.get(ORG)), universalLogout: true });
  await ledger.retimeOrg(ORG); // announces org_changed: nodes that loaded the org's settings read them again
  return reply;
}

function memory(): NodeMemory {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return { type: 'memory', usage: process.memoryUsage(), channels: authority.hub.size, trackedTokens: authority.ledger.trackedCount };
}

process.on('message', (m: { type?: string; users?: number }) => {
  if (m?.type === 'memory') process.send!(memory());
  if (m?.type === 'seed') {
    seed(m.users!).then(
      (reply) => process.send!(reply),
      (err: Error) => process.send!({ type: 'seed', users: [], error: err.stack ?? String(err) } satisfies NodeSeeded),
    );
  }
});
process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
process.send!({ type: 'ready', url, bareUrl } satisfies NodeReady);
