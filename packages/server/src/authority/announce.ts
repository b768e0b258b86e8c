import type { Bus } from '../bus/events.ts';
import type { RevokeReason } from '../store/records.ts';
import type { AccessTokenCache } from './access-token-cache.ts';

export interface Revoked {
  orgId: string;
  userId: string | null;
  reason: RevokeReason;
  initiatingClientId: string | null;
  at: number;
  tokens: { id: string; hash: string; clientId: string }[];
  /** The user was left without a live token: push Offline / OFF_QUEUE. */
  userOffline: boolean;
}

/**
 * After a revocation commits: marks the tokens in memory — before the revoking call returns,
 * so no request is accepted with them afterwards — then tells every channel of every token
 * and pushes the user's new status. Every way a token ends goes through here.
 */
export async function announceRevoked(deps: { tokens: AccessTokenCache; bus: Bus }, r: Revoked): Promise<void> {
  deps.tokens.markRevoked(r.tokens.map((t) => t.hash), r.at, r.reason);
  if (r.tokens.length) {
    await deps.bus.publish({
      type: 'token.revoked', orgId: r.orgId, userId: r.userId, reason: r.reason, initiatingClientId: r.initiatingClientId, at: r.at, tokens: r.tokens,
    });
  }
  if (r.userOffline && r.userId) {
    await deps.bus.publish({ type: 'presence.changed', orgId: r.orgId, userId: r.userId, presence: 'Offline', routingStatus: 'OFF_QUEUE', at: r.at });
  }
}
