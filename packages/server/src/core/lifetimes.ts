/** How long each credential lives unless something ends it sooner. */
export const LIFETIMES = {
  authCodeMs: 60_000,
  refreshTokenMs: 30 * 24 * 3600_000,
  signInSessionMs: 12 * 3600_000,
  idTokenMs: 3600_000,
} as const;
