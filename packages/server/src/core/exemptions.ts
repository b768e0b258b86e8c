import type { INTERACTION_STATES, INTERACTION_TYPES } from '../store/records.ts';

/** A connected or held voice or email interaction, or after-call work, keeps the agent's tokens from idling out. Chat never does. */
export function exemptsFromIdleTimeout(i: { type: (typeof INTERACTION_TYPES)[number]; state: (typeof INTERACTION_STATES)[number] }): boolean {
  return i.type !== 'chat' && (i.state === 'connected' || i.state === 'held' || i.state === 'acw');
}
