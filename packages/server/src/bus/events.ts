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
  | { type: 'presence.changed'; orgId: string; userId: string; presence: SystemPresence; routingStatus: RoutingStatus; at: number }
  /** `nodeId` appended to the cluster log, up to `seq`: apply it now (nodes also catch up at every lease renewal). */
  | { type: 'cluster.log'; nodeId: string; seq: number }
  /** `nodeId` has applied the cluster log up to `seq` (also recorded in its lease row). */
  | { type: 'cluster.applied'; nodeId: string; seq: number }
  /** A channel's topics changed through some node; the node holding its socket takes them. */
  | { type: 'channel.topics'; channelId: string; topics: string[] };

export interface Bus {
  publish(event: LockstepEvent): Promise<void>;
  subscribe(handler: (event: LockstepEvent) => void): () => void;
  close(): Promise<void>;
}
