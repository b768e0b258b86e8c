/** How much of anything one user, session or token may hold: every count an attacker could grow has a ceiling. */
export const LIMITS = {
  /** Live access tokens issued through one browser sign-in (every client and refresh of it). */
  accessTokensPerSignInSession: 200,
  /** Open notification channels over all of a user's tokens (each token also has its own, lower limit). */
  channelsPerUser: 100,
  /** Topics one channel subscribes to. */
  topicsPerChannel: 1000,
  /** API requests per access token and minute. */
  requestsPerTokenPerMinute: 1200,
} as const;
