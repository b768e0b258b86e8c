/** Every error the SDK throws has a stable `code`, so `switch (err.code)` narrows. */
export type LockstepErrorCode =
  | 'invalid_options'
  | 'not_signed_in'
  | 'foreign_url'
  | 'unknown_state'
  | 'authorization_error'
  | 'issuer_mismatch'
  | 'token_exchange_failed'
  | 'nonce_mismatch'
  | 'subscription_failed'
  | 'opener_missing';

export class LockstepError extends Error {
  override readonly name = 'LockstepError';

  constructor(readonly code: LockstepErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
