// Child process of bench/soak.ts: the Lockstep server (temp data dir, demo seeded) with SOAK_USERS users of the
// demo org, each holding one agent-desktop access token, seeded straight into the store as bench/fanout-server.ts
// does. Over IPC it mints more tokens ({type:'mint'}: the replacements for logged-out ones) and answers
// {type:'memory'} with process.memoryUsage() after a full GC (fork it with --expose-gc).
import { randomBytes } from 'node:crypto';
import { newId } from '../src/core/ids.ts';
import { readFileSync, rmSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { sha256, TOKEN_PREFIX } from '../src/core/secrets.ts';
import type { AccessToken, User } from '../src/core/records.ts';
import { startBenchServer } from './bench-kit.ts';

export interface SoakReady {
  type: 'ready';
  url: string;
  tokens: string[];
}
export interface SoakMinted {
  type: 'minted';
  id: number;
  tokens: string[];
}
export interface SoakMemory {
  type: 'memory';
  id: number;
  usage: NodeJS.MemoryUsage;
  /** Resident memory as the operator sees it: before the sampler's full GC. */
  rssBeforeGc: number;
  channels: number;
  liveTokens: number;
  /** Resident memory split by kind, from /proc/self/smaps_rollup (Linux only): anonymous (heap, malloc) vs file-backed (code, mapped files). */
  residentKb?: { anonymous: number; file: number };
  /** Committed bytes per V8 heap space (old_space, large_object_space, …). */
  heapSpaces: Record<string, number>;
  /** Bytes of live objects per V8 heap space. */
  heapSpacesUsed: Record<string, number>;
}
export type SoakRequest = { type: 'mint'; id: number; count: number } | { type: 'memory'; id: number };

if (process.env.SOAK_COMPACT) setFlagsFromString('--compact-on-every-full-gc');
const USERS = Number(process.env.SOAK_USERS ?? 10_000);
const ORG = 'demo';

const { dataDir, server, authority, store } = await startBenchServer('soak');

const users: User[] = [];
const now = Date.now();
for (let i = 0; i < USERS; i++) {
  users.push({
    id: newId(), orgId: ORG, email: `soak-${i}@demo.test`, name: `Soak Agent ${i}`, passwordHash: null,
    roles: ['agent'], version: 1, createdAt: now, updatedAt: now,
  });
}
store.db.transaction(() => {
  for (const u of users) void store.createUser(u);
})();

/** `count` fresh agent-desktop tokens (one grant each) of users taken in turn; in the store and the hot-path cache. */
let nextUser = 0;
async function mint(count: number): Promise<string[]> {
  const at = Date.now();
  const raw: string[] = [];
  const records: AccessToken[] = [];
  for (let i = 0; i < count; i++) {
    const user = users[nextUser++ % users.length]!;
    const token = TOKEN_PREFIX.accessToken + randomBytes(32).toString('base64url');
    raw.push(token);
    records.push({
      id: newId(), hash: sha256(token), orgId: ORG, userId: user.id, clientId: 'agent-desktop', sessionId: null, grantId: newId(),
      scope: 'openid', issuedAt: at, expiresAt: at + 86_400_000, lastActivityAt: at, revokedAt: null, revokeReason: null,
    });
  }
  store.db.transaction(() => {
    for (const r of records) void store.saveAccessToken(r);
  })();
  for (const r of records) await authority.ledger.track(r);
  return raw;
}

const tokens = await mint(USERS);

function residentKb(): SoakMemory['residentKb'] {
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return { anonymous: field('Anonymous'), file: field('Rss') - field('Anonymous') };
  } catch {
    return undefined;
  }
}

process.on('message', (m: SoakRequest) => {
  if (m?.type === 'memory') {
    const rssBeforeGc = process.memoryUsage.rss();
    if (!process.env.SOAK_NO_GC) for (let i = 0; i < 3; i++) globalThis.gc?.();
    process.send!({ type: 'memory', id: m.id, usage: process.memoryUsage(), rssBeforeGc, channels: authority.hub.size, liveTokens: authority.ledger.trackedCount, residentKb: residentKb(),
      heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
      heapSpacesUsed: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])) } satisfies SoakMemory);
  } else if (m?.type === 'mint') {
    void mint(m.count).then((minted) => process.send!({ type: 'minted', id: m.id, tokens: minted } satisfies SoakMinted));
  }
});
const quit = async () => {
  await server.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', () => void quit());
process.send!({ type: 'ready', url: server.url, tokens } satisfies SoakReady);
