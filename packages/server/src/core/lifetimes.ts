/** How long each credential lives unless something ends it sooner. */
export const LIFETIMES = {
  authCodeMs: 60_000,
  refreshTokenMs: 30 * 24 * 3600_000,
  signInSessionMs: 12 * 3600_000,
  idTokenMs: 3600_000,
  /** A revoked token stays in memory this long, so its replays are refused without a database read (then the store answers). */
  revokedTokenInMemoryMs: 2 * 60_000,
} as const;
