import type { LockstepState } from './types.ts';

/**
 * The session's state machine. Every transition not listed is refused (a late event of an ended
 * session cannot sign it back in, for instance).
 *
 *   starting ──► signed_out | signed_in | ended | signing_in
 *   signed_out ─► signing_in | signed_in (another tab signed in) | starting
 *   signing_in ─► signed_out (the redirect did not happen) | signed_in
 *   signed_in ──► ended | signing_in (switch user)
 *   ended ──────► signing_in | signed_in (another tab signed in) | starting
 */
const NEXT: Record<LockstepState, readonly LockstepState[]> = {
  starting: ['signed_out', 'signed_in', 'ended', 'signing_in'],
  signed_out: ['signing_in', 'signed_in', 'starting'],
  signing_in: ['signed_out', 'signed_in'],
  signed_in: ['ended', 'signing_in'],
  ended: ['signing_in', 'signed_in', 'starting'],
};

export class SessionState {
  #state: LockstepState = 'starting';

  constructor(private readonly onChange: (state: LockstepState) => void) {}

  get current(): LockstepState {
    return this.#state;
  }

  can(next: LockstepState): boolean {
    return NEXT[this.#state].includes(next);
  }

  /** Moves to `next` when allowed; answers whether it did. */
  to(next: LockstepState): boolean {
    if (next === this.#state || !this.can(next)) return false;
    this.#state = next;
    this.onChange(next);
    return true;
  }
}
