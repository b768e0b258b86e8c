import { randomUUID } from 'node:crypto';
import { backchannelLogoutsFor, owesBackchannel, USER_WIDE } from '../core/logout-policy.ts';
import type { RevokeReason } from '../store/records.ts';
import type { RevokedSet, RevokeSelection } from '../store/store.ts';
import type { Authority } from './authority.ts';
import { announceRevoked } from './announce.ts';
import type { AuditKind } from './audit.ts';

export interface RevokeContext {
  orgId: string;
  userId: string | null;
  reason: RevokeReason;
  initiatingClientId: string | null;
  /** Who asked, when it is not the user themself (an admin, an IdP client). */
  actor?: Record<string, unknown>;
}

/** Revocations that are audit entries of their own kind. Deleting a user or a client is not audited yet. */
const AUDITED: ReadonlySet<RevokeReason> = new Set<AuditKind & RevokeReason>([
  'logout', 'universal_logout', 'idle_timeout', 'admin_logoff', 'global_revocation', 'revocation', 'refresh_reuse',
]);

/**
 * Ends credentials. One store transaction commits the revocation with its audit entry, its
 * back-channel logouts (durable outbox) and, for user-wide logouts, the user's Offline status;
 * then `announceRevoked` marks the cache and tells the channels before this returns.
 */
export async function revokeAndAnnounce(a: Authority, selection: RevokeSelection, ctx: RevokeContext): Promise<RevokedSet> {
  const now = a.clock.now();
  const clients = owesBackchannel(ctx.reason) ? await a.store.listClients(ctx.orgId) : [];
  const kind = AUDITED.has(ctx.reason) ? (ctx.reason as AuditKind) : undefined;
  const revoked = await a.store.revoke(selection, now, ctx.reason, (set, clientSessions) => {
    const outbox = backchannelLogoutsFor(set, { ...ctx, now, newId: randomUUID }, clients, clientSessions);
    return {
      outbox,
      setUserOffline: USER_WIDE.has(ctx.reason) && ctx.userId ? { orgId: ctx.orgId, userId: ctx.userId } : undefined,
      audit: kind && {
        orgId: ctx.orgId, at: now, kind, userId: ctx.userId, clientId: ctx.initiatingClientId,
        details: {
          ...(ctx.actor ? { actor: ctx.actor } : {}),
          accessTokenIds: set.accessTokens.map((t) => t.id),
          clients: [...new Set(set.accessTokens.map((t) => t.clientId))],
          refreshTokens: set.refreshTokenIds.length,
          signInSessionIds: set.signInSessionIds,
          backchannelLogouts: outbox.map((o) => ({ clientId: o.clientId, jti: o.id })),
        },
      },
    };
  });
  await announceRevoked(a, {
    ...ctx, at: now, tokens: revoked.accessTokens.map((t) => ({ id: t.id, hash: t.hash, clientId: t.clientId })),
    userOffline: USER_WIDE.has(ctx.reason),
  });
  a.backchannel.poke();
  return revoked;
}
