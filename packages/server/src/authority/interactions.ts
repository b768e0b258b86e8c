import type { INTERACTION_STATES, INTERACTION_TYPES } from '../core/records.ts';
import type { Authority } from './authority.ts';

export interface InteractionUpdate {
  orgId: string;
  userId: string;
  id: string;
  type: (typeof INTERACTION_TYPES)[number];
  state: (typeof INTERACTION_STATES)[number];
}

/** One message of the interaction feed: stored (a disconnect deletes it), then the user's idle exemption re-applied. Returns whether the user is now exempt. */
export async function applyInteraction(a: Authority, i: InteractionUpdate): Promise<boolean> {
  const now = a.clock.now();
  if (i.state === 'disconnected') await a.store.deleteInteraction(i.userId, i.id);
  else await a.store.saveInteraction({ ...i, state: i.state, updatedAt: now });
  await a.ledger.interactionsChanged(i.orgId, i.userId, now);
  return a.ledger.idle.isExempt(i.userId);
}
