import type { RevokeReason, RoutingStatus, SystemPresence } from '../core/records.ts';

/** What nodes tell each other. Handlers must be cheap: they run on the publishing request's path in-process. */
export type LockstepEvent =
  | {
      type: 'token.revoked';
      orgId: string;
      userId: string | null;
      tokens: { id: string; hash: string; clientId: string }[];
      reason: RevokeReason;
      initiatingClientId: string | null;
      at: number;
    }
  | { type: 'presence.changed'; orgId: string; userId: string; presence: SystemPresence; routingStatus: RoutingStatus; at: number };

export interface Bus {
  publish(event: LockstepEvent): Promise<void>;
  subscribe(handler: (event: LockstepEvent) => void): () => void;
  close(): Promise<void>;
}
