import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { hashPassword } from '../core/secrets.ts';
import { DEFAULT_ORG_SETTINGS } from '../core/records.ts';
import { StoreConflictError } from '../store/store.ts';
import { openStore } from '../server.ts';

export async function createOrg(config: Config, name: string, adminEmail: string) {
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) throw new Error(`Not an email address: ${adminEmail}`);
  const store = await openStore(config);
  try {
    if (await store.findUserByEmail(adminEmail)) throw new Error(`A user with email ${adminEmail} already exists`);
    const now = Date.now();
    const orgId = randomUUID();
    const password = randomBytes(12).toString('base64url');
    await store.createOrg({ id: orgId, name, createdAt: now }, DEFAULT_ORG_SETTINGS);
    const admin = { id: randomUUID(), orgId, email: adminEmail, name: 'Administrator', passwordHash: await hashPassword(password), roles: ['admin' as const], version: 1, createdAt: now, updatedAt: now };
    await store.createUser(admin).catch((err) => {
      throw err instanceof StoreConflictError ? new Error(`A user with email ${adminEmail} already exists`) : err;
    });
    console.log(`Created organization "${name}" (${orgId})\n  admin     ${adminEmail}\n  password  ${password}   (shown once; change it after signing in)`);
  } finally {
    await store.close();
  }
}
