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

/** What can go wrong on a bus, for the error counter. */
export type BusErrorKind = 'publish_failed' | 'disconnected' | 'subscribe_failed' | 'malformed_message' | 'handler_threw';

export interface Bus {
  publish(event: LockstepEvent): Promise<void>;
  subscribe(handler: (event: LockstepEvent) => void): () => void;
  close(): Promise<void>;
  /** False while events of other nodes may be missed (Redis down); readiness asks it. */
  readonly connected: boolean;
  /** Calls `listener` at each failure; returns the unsubscribe function. */
  onError(listener: (kind: BusErrorKind) => void): () => void;
}
