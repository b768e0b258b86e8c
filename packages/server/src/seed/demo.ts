import { randomBytes, randomUUID } from 'node:crypto';
import type { Authority } from '../authority/authority.ts';
import { hashPassword, sha256 } from '../core/secrets.ts';
import { DEFAULT_ORG_SETTINGS, type Client, type Role } from '../store/records.ts';

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

/** Loopback redirect URIs: any port matches (RFC 8252), so tests on ephemeral ports use them too. */
function demoClients(): Omit<Client, 'secretHash' | 'createdAt' | 'orgId'>[] {
  const spa = { type: 'public' as const, grantTypes: ['authorization_code', 'refresh_token'] as Client['grantTypes'], backchannelLogoutUri: null, roles: [] };
  return [
    { id: 'agent-desktop', name: 'Agent Desktop', ...spa,
      redirectUris: ['http://127.0.0.1:8080/demo/callback', 'http://127.0.0.1/callback'], postLogoutRedirectUris: ['http://127.0.0.1:8080/demo/agent'] },
    { id: 'crm-embedded', name: 'CRM (embedded)', ...spa,
      redirectUris: ['http://127.0.0.1:8080/demo/callback', 'http://127.0.0.1/callback'], postLogoutRedirectUris: ['http://127.0.0.1:8080/demo/embedded'] },
    { id: 'admin-console', name: 'Lockstep Admin Console', ...spa,
      redirectUris: ['http://127.0.0.1:8080/admin/callback', 'http://127.0.0.1/admin/callback'], postLogoutRedirectUris: ['http://127.0.0.1:8080/admin'] },
    { id: 'desktop-app', name: 'Desktop App', ...spa, redirectUris: ['http://127.0.0.1/callback'], postLogoutRedirectUris: [] },
    { id: 'crm-backend', name: 'CRM Backend', type: 'confidential', grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: ['http://127.0.0.1:8080/demo/crm-backend/callback', 'http://127.0.0.1/callback'], postLogoutRedirectUris: [],
      backchannelLogoutUri: 'http://127.0.0.1:8080/demo/crm-backend/backchannel-logout', roles: [] },
    { id: 'automation', name: 'Automation', type: 'confidential', grantTypes: ['client_credentials'],
      redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null, roles: ['admin'] },
  ];
}

const generate = () => randomBytes(12).toString('base64url');

/**
 * Seeds the demo org on an empty store. On a store seeded before, LOCKSTEP_DEMO_PASSWORD and
 * LOCKSTEP_DEMO_CLIENT_SECRET, when set, are applied again so the printed values are the ones that work.
 */
export async function seedDemo(a: Authority): Promise<DemoCredentials> {
  const { store, config } = a;
  const now = a.clock.now();
  if ((await store.countOrgs()) === 0) {
    const password = config.demoPassword ?? generate();
    const clientSecret = config.demoClientSecret ?? generate();
    await store.createOrg({ id: DEMO_ORG_ID, name: 'Demo Contact Center', createdAt: now }, DEFAULT_ORG_SETTINGS);
    const passwordHash = await hashPassword(password);
    for (const u of DEMO_USERS) {
      await store.createUser({ id: randomUUID(), orgId: DEMO_ORG_ID, ...u, passwordHash, createdAt: now, updatedAt: now });
    }
    for (const c of demoClients()) {
      await store.createClient({ ...c, orgId: DEMO_ORG_ID, secretHash: c.type === 'confidential' ? sha256(clientSecret) : null, createdAt: now });
    }
    return { password, clientSecret, seeded: true };
  }

  await addMissingDemoClients(a, now);
  if (config.demoPassword) {
    const passwordHash = await hashPassword(config.demoPassword);
    for (const u of DEMO_USERS) {
      const user = await store.findUserByEmail(u.email);
      if (user?.orgId === DEMO_ORG_ID) await store.updateUser({ ...user, passwordHash, updatedAt: now });
    }
  }
  if (config.demoClientSecret) {
    for (const c of await store.listClients(DEMO_ORG_ID)) {
      if (c.type === 'confidential') await store.updateClient({ ...c, secretHash: sha256(config.demoClientSecret) });
    }
  }
  return { password: config.demoPassword, clientSecret: config.demoClientSecret, seeded: false };
}

/** Demo clients added in later versions reach demo orgs seeded before them. */
async function addMissingDemoClients(a: Authority, now: number) {
  if (!(await a.store.getOrg(DEMO_ORG_ID))) return;
  for (const c of demoClients()) {
    if (c.type === 'public' && !(await a.store.getClient(c.id))) await a.store.createClient({ ...c, orgId: DEMO_ORG_ID, secretHash: null, createdAt: now });
  }
}
