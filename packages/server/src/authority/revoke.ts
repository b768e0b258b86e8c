import type { RevokeReason } from '../store/records.ts';
import type { RevokedSet, RevokeSelection } from '../store/store.ts';
import type { Authority } from './authority.ts';
import { writeAudit, type AuditKind } from './audit.ts';

export interface RevokeContext {
  orgId: string;
  userId: string | null;
  reason: RevokeReason;
  initiatingClientId: string | null;
  /** Who asked, when it is not the user themself (an admin, an IdP client). */
  actor?: Record<string, unknown>;
}

const AUDITED: Partial<Record<RevokeReason, AuditKind>> = {
  logout: 'logout', universal_logout: 'universal_logout', idle_timeout: 'idle_timeout', admin_logoff: 'admin_logoff',
  global_revocation: 'global_revocation', revocation: 'revocation', refresh_reuse: 'refresh_reuse',
};

/**
 * Ends credentials: one store transaction, then the in-memory cache (before this returns, so no
 * request is accepted with a revoked token afterwards), then the bus and the audit log.
 */
export async function revokeAndAnnounce(a: Authority, selection: RevokeSelection, ctx: RevokeContext): Promise<RevokedSet> {
  const now = a.clock.now();
  const revoked = await a.store.revoke(selection, now, ctx.reason);
  a.tokens.markRevoked(revoked.accessTokens.map((t) => t.hash), now, ctx.reason);
  if (revoked.accessTokens.length) {
    await a.bus.publish({
      type: 'token.revoked', orgId: ctx.orgId, userId: ctx.userId, reason: ctx.reason, initiatingClientId: ctx.initiatingClientId, at: now,
      tokens: revoked.accessTokens.map((t) => ({ id: t.id, hash: t.hash, clientId: t.clientId })),
    });
  }
  const kind = AUDITED[ctx.reason];
  if (kind) {
    await writeAudit(a.store, now, {
      orgId: ctx.orgId, kind, userId: ctx.userId, clientId: ctx.initiatingClientId,
      details: {
        ...(ctx.actor ? { actor: ctx.actor } : {}),
        accessTokenIds: revoked.accessTokens.map((t) => t.id),
        clients: [...new Set(revoked.accessTokens.map((t) => t.clientId))],
        refreshTokens: revoked.refreshTokenIds.length,
        signInSessionIds: revoked.signInSessionIds,
      },
    });
  }
  return revoked;
}
