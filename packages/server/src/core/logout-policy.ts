import type { BackchannelLogout, Client, RevokeReason } from '../store/records.ts';
import type { RevokedSet, RevokeSelection } from '../store/store.ts';

/**
 * A user-initiated logout from one client: with universal logout on, everything of the user;
 * otherwise only the grant of the token that logged out. Client-credentials tokens have no user.
 */
export function userLogout(token: { grantId: string; userId: string | null }, universalLogoutEnabled: boolean): { selection: RevokeSelection; reason: RevokeReason } {
  if (universalLogoutEnabled && token.userId) return { selection: { userId: token.userId }, reason: 'universal_logout' };
  return { selection: { grantId: token.grantId }, reason: 'logout' };
}

/** Reasons that end a user's whole presence in the org, not one client's. */
export const USER_WIDE: ReadonlySet<RevokeReason> = new Set(['universal_logout', 'admin_logoff', 'global_revocation']);
const BACKCHANNEL: ReadonlySet<RevokeReason> = new Set(['logout', ...USER_WIDE]);

/**
 * The back-channel logouts a revocation owes, one per (client, sign-in session). A per-client
 * logout tells only the clients whose tokens ended; a user-wide one tells every back-channel
 * client of the org: by the sessions its tokens came from, else by the ended sign-in sessions,
 * else by the user alone (sub without sid).
 */
export function backchannelLogoutsFor(
  revoked: RevokedSet,
  ctx: { orgId: string; userId: string | null; reason: RevokeReason; now: number; newId: () => string },
  orgClients: readonly Client[],
): BackchannelLogout[] {
  if (!ctx.userId || !BACKCHANNEL.has(ctx.reason)) return [];
  const userWide = USER_WIDE.has(ctx.reason);
  const out: BackchannelLogout[] = [];
  for (const client of orgClients) {
    if (!client.backchannelLogoutUri) continue;
    const sessions = new Set<string | null>(
      revoked.accessTokens.filter((t) => t.clientId === client.id && t.userId === ctx.userId).map((t) => t.sessionId),
    );
    if (userWide && !sessions.size) {
      // The client held no token that ended: name the sign-in sessions that ended, or the user alone.
      for (const id of revoked.signInSessionIds) sessions.add(id);
      if (!sessions.size) sessions.add(null);
    }
    if (sessions.size > 1) sessions.delete(null);
    for (const sessionId of sessions) {
      out.push({
        id: ctx.newId(), orgId: ctx.orgId, clientId: client.id, uri: client.backchannelLogoutUri, userId: ctx.userId, sessionId,
        reason: ctx.reason, createdAt: ctx.now, nextAttemptAt: ctx.now, attempts: 0, status: 'pending',
      });
    }
  }
  return out;
}
