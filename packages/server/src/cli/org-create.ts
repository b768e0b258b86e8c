import { randomBytes } from 'node:crypto';
import { newId } from '../core/ids.ts';
import { ConfigError, effectiveIssuer, type Config } from '../config.ts';
import { hashPassword } from '../core/secrets.ts';
import { DEFAULT_ORG_SETTINGS } from '../core/records.ts';
import { consoleClient, consoleClientIdOf } from '../seed/demo.ts';
import { StoreConflictError } from '../store/store.ts';
import { openStore } from '../server.ts';
import { emailArgument } from './usage.ts';

/** Where the org's admin signs in: the console page told which client is this org's. */
const consoleUrl = (issuer: string, clientId: string) => `${issuer}/admin?client_id=${encodeURIComponent(clientId)}`;

/**
 * The org, its first admin and its admin console client, written to the store directly: a running server
 * reads orgs, users and clients from the store when it needs them, so the admin can sign in at once.
 */
export async function createOrg(config: Config, name: string, adminEmail: string) {
  emailArgument(adminEmail);
  const issuer = effectiveIssuer(config);
  if (!issuer) throw new ConfigError('org create needs the server\'s public URL for the console client: set LOCKSTEP_ISSUER (or a PORT other than 0) as the server has it');
  const store = await openStore(config);
  try {
    if (await store.findUserByEmail(adminEmail)) throw new Error(`A user with email ${adminEmail} already exists`);
    const now = Date.now();
    const orgId = newId();
    const password = randomBytes(12).toString('base64url');
    await store.createOrg({ id: orgId, name, createdAt: now }, DEFAULT_ORG_SETTINGS);
    const admin = { id: newId(), orgId, email: adminEmail, name: 'Administrator', passwordHash: await hashPassword(password), roles: ['admin' as const], version: 1, createdAt: now, updatedAt: now };
    await store.createUser(admin).catch((err) => {
      throw err instanceof StoreConflictError ? new Error(`A user with email ${adminEmail} already exists`) : err;
    });
    const console_ = consoleClient(consoleClientIdOf(orgId), issuer);
    await store.createClient({ ...console_, orgId, secretHash: null, createdAt: now });
    console.log([
      `Created organization "${name}" (${orgId})`,
      `  admin     ${adminEmail}`,
      `  password  ${password}   (shown once; change it after signing in)`,
      `  console   ${consoleUrl(issuer, console_.id)}`,
      `  client    ${console_.id} (redirect URI ${console_.redirectUris[0]})`,
    ].join('\n'));
  } finally {
    await store.close();
  }
}
