import { randomBytes } from 'node:crypto';
import { newId } from '../core/ids.ts';
import type { Authority } from '../authority/authority.ts';
import { hashPassword, sha256 } from '../core/secrets.ts';
import { DEFAULT_ORG_SETTINGS, type Client, type Role } from '../core/records.ts';
import { StoreConflictError } from '../store/store.ts';

export interface DemoCredentials {
  /** Null when the org was seeded earlier with a generated password that we no longer know. */
  password: string | null;
  clientSecret: string | null;
  seeded: boolean;
}

export const DEMO_ORG_ID = 'demo';
export const DEMO_USERS: { email: string; name: string; roles: Role[] }[] = [
  { email: 'admin@demo.test', name: 'Ada Admin', roles: ['admin'] },
  { email: 'supervisor@demo.test', name: 'Sam Supervisor', roles: ['supervisor'] },
  { email: 'agent@demo.test', name: 'Alex Agent', roles: ['agent'] },
  { email: 'agent2@demo.test', name: 'Blake Agent', roles: ['agent'] },
];

/**
 * The demo clients, their URIs under the issuer. Their loopback redirect URIs match any port (RFC 8252),
 * so tests and local tools on ephemeral ports use them too; not the console's: no local process gets its codes.
 */
function demoClients(issuer: string): Omit<Client, 'secretHash' | 'createdAt' | 'orgId'>[] {
  const spa = {
    type: 'public' as const, grantTypes: ['authorization_code', 'refresh_token'] as Client['grantTypes'], backchannelLogoutUri: null,
    allowedOrigins: [], roles: [], loopbackAnyPort: true,
  };
  const confidential = { type: 'confidential' as const, allowedOrigins: [], postLogoutRedirectUris: [], roles: [], loopbackAnyPort: true };
  return [
    { id: 'agent-desktop', name: 'Agent Desktop', ...spa,
      redirectUris: [`${issuer}/demo/callback`, 'http://127.0.0.1/callback'], postLogoutRedirectUris: [`${issuer}/demo/agent`] },
    { id: 'crm-embedded', name: 'CRM (embedded)', ...spa,
      redirectUris: [`${issuer}/demo/callback`, 'http://127.0.0.1/callback'], postLogoutRedirectUris: [`${issuer}/demo/embedded`] },
    { ...consoleClient(DEMO_CONSOLE_CLIENT_ID, issuer), redirectUris: [`${issuer}/admin/callback`, 'http://127.0.0.1/admin/callback'] },
    { id: 'desktop-app', name: 'Desktop App', ...spa, redirectUris: ['http://127.0.0.1/callback'], postLogoutRedirectUris: [] },
    { id: 'crm-backend', name: 'CRM Backend', ...confidential, grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [`${issuer}/demo/crm-backend/callback`, 'http://127.0.0.1/callback'],
      backchannelLogoutUri: `${issuer}/demo/crm-backend/backchannel-logout` },
    { id: 'automation', name: 'Automation', ...confidential, grantTypes: ['client_credentials'], redirectUris: [], backchannelLogoutUri: null, roles: ['admin'] },
  ];
}

/** The admin console's client in the demo org; another org's console has a client of its own (consoleClientIdOf). */
const DEMO_CONSOLE_CLIENT_ID = 'admin-console';

/**
 * An org's admin console (/admin): a public client signing in to `{issuer}/admin/callback`. Its redirect
 * URI matches on its exact port only: no local process gets its codes.
 */
export function consoleClient(id: string, issuer: string): Omit<Client, 'secretHash' | 'createdAt' | 'orgId'> {
  return {
    id, name: 'Lockstep Admin Console', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], backchannelLogoutUri: null,
    allowedOrigins: [], roles: [], loopbackAnyPort: false, redirectUris: [`${issuer}/admin/callback`], postLogoutRedirectUris: [`${issuer}/admin`],
  };
}

/** Client ids are global, so each org's console client carries the org's id. */
export const consoleClientIdOf = (orgId: string) => `admin-console-${orgId}`;

const generate = () => randomBytes(12).toString('base64url');

/**
 * Seeds the demo org on an empty store. On a store seeded before, LOCKSTEP_DEMO_PASSWORD and
 * LOCKSTEP_DEMO_CLIENT_SECRET, when set, are applied again so the printed values are the ones that work.
 */
export async function seedDemo(a: Authority): Promise<DemoCredentials> {
  const { store, config } = a;
  const now = a.clock.now();
  const issuer = a.issuer();
  if ((await store.countOrgs()) === 0 && (await claimSeed(a, now))) {
    const password = config.demoPassword ?? generate();
    const clientSecret = config.demoClientSecret ?? generate();
    for (const u of DEMO_USERS) {
      // One hash per user: a salt of its own, even with the one demo password.
      await store.createUser({ id: newId(), orgId: DEMO_ORG_ID, ...u, passwordHash: await hashPassword(password), version: 1, createdAt: now, updatedAt: now });
    }
    for (const c of demoClients(issuer)) {
      await store.createClient({ ...c, orgId: DEMO_ORG_ID, secretHash: c.type === 'confidential' ? sha256(clientSecret) : null, createdAt: now });
    }
    a.webOrigins.invalidate();
    return { password, clientSecret, seeded: true };
  }

  await seedFinished(a, now);
  await syncDemoClients(a, issuer, now);
  if (config.demoPassword) {
    for (const u of DEMO_USERS) {
      const user = await store.findUserByEmail(u.email);
      if (user?.orgId !== DEMO_ORG_ID) continue;
      await store.updateUser({ ...user, passwordHash: await hashPassword(config.demoPassword), version: user.version + 1, updatedAt: now });
    }
  }
  if (config.demoClientSecret) {
    for (const c of await store.listClients(DEMO_ORG_ID)) {
      if (c.type === 'confidential') await store.updateClient({ ...c, secretHash: sha256(config.demoClientSecret) });
    }
  }
  return { password: config.demoPassword, clientSecret: config.demoClientSecret, seeded: false };
}

/**
 * Creating the demo org claims the seeding: nodes of a cluster starting together on an empty store race for
 * it, one wins; the others go on as on a store seeded before, once the winner is done (see seedFinished).
 */
async function claimSeed(a: Authority, now: number): Promise<boolean> {
  try {
    await a.store.createOrg({ id: DEMO_ORG_ID, name: 'Demo Contact Center', createdAt: now }, DEFAULT_ORG_SETTINGS);
    return true;
  } catch (err) {
    if (err instanceof StoreConflictError) return false;
    throw err;
  }
}

/** A demo org created moments ago by another node is complete once its last client exists. */
async function seedFinished(a: Authority, now: number): Promise<void> {
  const org = await a.store.getOrg(DEMO_ORG_ID);
  if (!org || org.createdAt < now - SEED_WAIT_MS) return;
  const last = demoClients('').at(-1)!.id;
  for (let waited = 0; !(await a.store.getClient(last)); waited += SEED_POLL_MS) {
    if (waited > SEED_WAIT_MS) throw new Error('another node began seeding the demo org and has not finished; restart once it has');
    await new Promise((r) => setTimeout(r, SEED_POLL_MS));
  }
}
const SEED_POLL_MS = 100;
const SEED_WAIT_MS = 30_000;

/**
 * Demo clients follow the issuer of this start (another PORT or LOCKSTEP_ISSUER than last time), and
 * public demo clients added in later versions reach demo orgs seeded before them. Only URIs the seed
 * wrote move (same path, another origin); a URI an admin set elsewhere stays.
 */
async function syncDemoClients(a: Authority, issuer: string, now: number) {
  if (!(await a.store.getOrg(DEMO_ORG_ID))) return;
  for (const c of demoClients(issuer)) {
    const existing = await a.store.getClient(c.id);
    if (!existing && c.type === 'public') await a.store.createClient({ ...c, orgId: DEMO_ORG_ID, secretHash: null, createdAt: now });
    if (existing?.orgId !== DEMO_ORG_ID) continue;
    const underIssuer = [...c.redirectUris, ...c.postLogoutRedirectUris, c.backchannelLogoutUri ?? ''].filter((u) => u.startsWith(`${issuer}/`));
    const follow = (uri: string) => underIssuer.find((seeded) => seededElsewhere(seeded, uri)) ?? uri;
    await a.store.updateClient({
      ...existing,
      redirectUris: existing.redirectUris.map(follow),
      postLogoutRedirectUris: existing.postLogoutRedirectUris.map(follow),
      backchannelLogoutUri: existing.backchannelLogoutUri && follow(existing.backchannelLogoutUri),
      loopbackAnyPort: c.loopbackAnyPort,
    });
  }
  a.webOrigins.invalidate();
}

/** `uri` is what the seed wrote under an earlier issuer: the same /demo or /admin path on another origin. */
function seededElsewhere(seeded: string, uri: string): boolean {
  const parse = (u: string) => URL.canParse(u) ? new URL(u) : null;
  const [s, u] = [parse(seeded), parse(uri)];
  return !!s && !!u && s.origin !== u.origin && s.pathname === u.pathname && /^\/(?:demo|admin)(?:\/|$)/.test(u.pathname);
}
