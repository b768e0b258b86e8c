// Child process for the fan-out benchmark: the Lockstep server with USERS users of the demo org, each
// holding two access tokens (agent-desktop and crm-embedded), universal logout on. It tells the parent
// (the load generator, which must not share this event loop) the URL and the raw tokens, and answers
// {type:'memory'} with process.memoryUsage() after a full GC (fork with --expose-gc).
import { randomBytes } from 'node:crypto';
import { newId } from '../src/core/ids.ts';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { sha256, TOKEN_PREFIX } from '../src/core/secrets.ts';
import type { AccessToken, User } from '../src/core/records.ts';
import { startBenchServer } from './bench-kit.ts';

export interface FanoutReady {
  type: 'ready';
  url: string;
  /** Per user: the raw tokens of [agent-desktop, crm-embedded]. */
  users: { userId: string; tokens: [string, string] }[];
}

export interface FanoutMemory {
  type: 'memory';
  usage: NodeJS.MemoryUsage;
  channels: number;
  liveTokens: number;
  /** Back-channel logout tokens crm-backend's (local) receiver got. */
  backchannelLogouts: number;
}

const USERS = Number(process.env.FANOUT_USERS ?? 5000);
const ORG = 'demo';
const CLIENTS = ['agent-desktop', 'crm-embedded'] as const;

const { dataDir, server, authority, store } = await startBenchServer('fanout');

// crm-backend's back-channel logout URI points at the demo's 127.0.0.1:8080 (whatever runs there, if
// anything). Here it points at a local receiver that answers 200, so each universal logout still
// signs and delivers its logout token as in production, but to nobody else.
let backchannelLogouts = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    backchannelLogouts++;
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const crmBackend = await store.getClient('crm-backend');
if (crmBackend) {
  const { port } = receiver.address() as { port: number };
  await store.updateClient({ ...crmBackend, backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` });
}

const now = Date.now();
const users: User[] = [];
const records: AccessToken[] = [];
const ready: FanoutReady = { type: 'ready', url: server.url, users: [] };
for (let i = 0; i < USERS; i++) {
  const user: User = {
    id: newId(), orgId: ORG, email: `fanout-${i}@demo.test`, name: `Fanout Agent ${i}`, passwordHash: null,
    roles: ['agent'], version: 1, createdAt: now, updatedAt: now,
  };
  users.push(user);
  const raw = CLIENTS.map(() => TOKEN_PREFIX.accessToken + randomBytes(32).toString('base64url')) as [string, string];
  CLIENTS.forEach((clientId, c) => records.push({
    id: newId(), hash: sha256(raw[c]!), orgId: ORG, userId: user.id, clientId, sessionId: null, grantId: newId(),
    scope: 'openid', issuedAt: now, expiresAt: now + 86_400_000, lastActivityAt: now, revokedAt: null, revokeReason: null,
  }));
  ready.users.push({ userId: user.id, tokens: raw });
}
// One transaction for the seeding (10,000 single-row commits would only measure the disk).
store.db.transaction(() => {
  for (const u of users) void store.createUser(u);
  for (const r of records) void store.saveAccessToken(r);
})();
for (const r of records) await authority.ledger.track(r); // the hot-path cache knows them, as if just issued
await authority.settings.save(ORG, { ...(await authority.settings.get(ORG)), universalLogout: true });

function memory(): FanoutMemory {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return { type: 'memory', usage: process.memoryUsage(), channels: authority.hub.size, liveTokens: authority.ledger.trackedCount, backchannelLogouts };
}

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'memory') process.send!(memory());
});
const quit = async () => {
  await server.close().catch(() => {});
  receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', () => void quit());
process.send!(ready);
