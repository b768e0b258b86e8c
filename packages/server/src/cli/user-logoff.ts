import { userInfo } from 'node:os';
import type { Config } from '../config.ts';
import { withCliAuthority } from './cli-authority.ts';
import { emailArgument } from './usage.ts';

/**
 * An administrative logoff from the command line: the ledger's ending, as `DELETE /api/v2/tokens/{userId}`
 * does it (one transaction with the audit entry, the back-channel outbox and Offline; the channels told).
 */
export async function logoffUser(config: Config, email: string, orgId?: string) {
  emailArgument(email);
  await withCliAuthority(config, async (a) => {
    const user = await a.store.findUserByEmail(email);
    if (!user || (orgId && user.orgId !== orgId)) throw new Error(`No user with email ${email}${orgId ? ` in organization ${orgId}` : ''}`);
    const revoked = await a.ledger.end({ userId: user.id }, {
      orgId: user.orgId, userId: user.id, reason: 'admin_logoff', initiatingClientId: null,
      actor: { cli: 'lockstep user logoff', osUser: safeOsUser() },
    });
    const clients = [...new Set(revoked.accessTokens.map((t) => t.clientId))];
    console.log([
      `Logged off ${user.email} (${user.id}, organization ${user.orgId})`,
      `  access tokens      ${revoked.accessTokens.length}${clients.length ? ` (${clients.join(', ')})` : ''}`,
      `  refresh tokens     ${revoked.refreshTokenIds.length}`,
      `  sign-in sessions   ${revoked.signInSessionIds.length}`,
    ].join('\n'));
  });
}

function safeOsUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}
