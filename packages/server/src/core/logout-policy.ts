import type { BackchannelLogout, Client, ClientSession, RevokedSet, RevokeReason, RevokeSelection } from './records.ts';

/**
 * A user-initiated logout from one client (DELETE /api/v2/tokens/me, the end-session endpoint):
 * with universal logout on, everything of the user; otherwise only `own`, what that client holds.
 * Client-credentials tokens have no user, so their logout is always their own.
 */
export function userLogout(userId: string | null, own: RevokeSelection, universalLogout: boolean): { selection: RevokeSelection; reason: RevokeReason } {
  if (universalLogout && userId) return { selection: { userId }, reason: 'universal_logout' };
  return { selection: own, reason: 'logout' };
}

/** Reasons that end a user's whole presence in the org, not one client's. */
export const USER_WIDE: ReadonlySet<RevokeReason> = new Set(['universal_logout', 'admin_logoff', 'global_revocation']);
/** Reasons whose back-channel logouts go to every client the user was signed in to: the user-wide ones and deleting the user. */
const USER_WIDE_BACKCHANNEL: ReadonlySet<RevokeReason> = new Set([...USER_WIDE, 'user_deleted']);
const BACKCHANNEL: ReadonlySet<RevokeReason> = new Set(['logout', ...USER_WIDE_BACKCHANNEL]);

/** Whether revocations for this reason tell back-channel clients (idle timeouts and RFC 7009 revocations do not). */
export const owesBackchannel = (reason: RevokeReason) => BACKCHANNEL.has(reason);

/**
 * The back-channel logouts a revocation owes, one per (client, sign-in session). A per-client
 * logout tells only the clients whose tokens ended. A user-wide one (and deleting the user) tells
 * the back-channel clients the user was signed in to — those with credentials among what ended, or
 * with tokens issued through a sign-in session that ended (`clientSessions`, from the store) — by
 * those sessions; a client the user never used hears nothing of them.
 */
export function backchannelLogoutsFor(
  revoked: Omit<RevokedSet, 'logSeq'>,
  ctx: { orgId: string; userId: string | null; reason: RevokeReason; now: number; newId: () => string },
  orgClients: readonly Client[],
  clientSessions: () => readonly ClientSession[] = () => [],
): BackchannelLogout[] {
  if (!ctx.userId || !owesBackchannel(ctx.reason)) return [];
  const userWide = USER_WIDE_BACKCHANNEL.has(ctx.reason);
  const ties = userWide ? clientSessions() : [];
  const out: BackchannelLogout[] = [];
  for (const client of orgClients) {
    if (!client.backchannelLogoutUri) continue;
    const sessions = new Set<string | null>(
      revoked.accessTokens.filter((t) => t.clientId === client.id && t.userId === ctx.userId).map((t) => t.sessionId),
    );
    for (const tie of ties) if (tie.clientId === client.id) sessions.add(tie.sessionId);
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
