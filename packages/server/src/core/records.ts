/** What the store keeps. Times are milliseconds since the epoch; secrets appear only as SHA-256 hashes. */

export const ROLES = ['admin', 'supervisor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface Org {
  id: string;
  name: string;
  createdAt: number;
}

/** The unit an admin chose to see a timeout in; the seconds stay the truth. */
export const TIMEOUT_UNITS = ['SECONDS', 'MINUTES', 'HOURS'] as const;
export type TimeoutUnit = (typeof TIMEOUT_UNITS)[number];

export interface GroupTimeoutBundle {
  priority: number;
  timeoutSeconds: number;
  inactivityTimeoutUnit: TimeoutUnit;
  groups: string[];
}

/** Genesys Cloud's `IdleTokenTimeout`. */
export interface IdleTimeoutSettings {
  enableIdleTokenTimeout: boolean;
  idleTokenTimeoutSeconds: number;
  inactivityTimeoutUnit: TimeoutUnit;
  inactivityTimeoutGroupsEnabled: boolean;
  inactivityTimeoutGroupBundles: GroupTimeoutBundle[];
}

/** Field names follow Genesys Cloud's `OrgAuthSettings` and `OrganizationFeatures`. */
export interface OrgSettings {
  universalLogout: boolean;
  /** Path patterns whose calls are not activity (`*` one segment, trailing `/**` everything below). */
  inactivityTimeoutExclusions: string[];
  hipaa: boolean;
  idle: IdleTimeoutSettings;
}

export const DEFAULT_ORG_SETTINGS: OrgSettings = {
  universalLogout: false,
  inactivityTimeoutExclusions: [],
  hipaa: false,
  idle: {
    enableIdleTokenTimeout: false,
    idleTokenTimeoutSeconds: 900,
    inactivityTimeoutUnit: 'MINUTES',
    inactivityTimeoutGroupsEnabled: false,
    inactivityTimeoutGroupBundles: [],
  },
};

export interface User {
  id: string;
  orgId: string;
  email: string;
  name: string;
  passwordHash: string | null;
  roles: Role[];
  /** Bumped on every change (Genesys Cloud's optimistic `version`). */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export const GROUP_TYPES = ['official', 'social'] as const;
export const GROUP_VISIBILITIES = ['public', 'members'] as const;

export interface Group {
  id: string;
  orgId: string;
  name: string;
  description: string;
  type: (typeof GROUP_TYPES)[number];
  visibility: (typeof GROUP_VISIBILITIES)[number];
  rulesVisible: boolean;
  memberIds: string[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface Client {
  id: string;
  orgId: string;
  name: string;
  type: 'public' | 'confidential';
  secretHash: string | null;
  redirectUris: string[];
  grantTypes: GrantType[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  /** Web origins (scheme://host[:port]) allowed to call Lockstep from a browser, besides those of its redirect URIs (CORS). */
  allowedOrigins: string[];
  /** A loopback redirect URI (http://127.0.0.1/..., http://[::1]/...) matches on any port: native apps (RFC 8252 §7.3). */
  loopbackAnyPort: boolean;
  /** Roles a client-credentials token of this client acts with (e.g. `admin` for automation). */
  roles: Role[];
  createdAt: number;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateJwk: string;
  createdAt: number;
}

/** The browser's sign-in (SSO) session behind the session cookie. */
export interface SignInSession {
  id: string;
  tokenHash: string;
  orgId: string;
  userId: string;
  authTime: number;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
}

export interface AuthCode {
  hash: string;
  clientId: string;
  orgId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
  createdAt: number;
  expiresAt: number;
}

export const REVOKE_REASONS = [
  'logout', 'universal_logout', 'idle_timeout', 'admin_logoff', 'global_revocation', 'revocation', 'refresh_reuse', 'user_deleted', 'client_deleted',
] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

export interface AccessToken {
  id: string;
  hash: string;
  orgId: string;
  userId: string | null;
  clientId: string;
  sessionId: string | null;
  /** One authorization grant: the code exchange (or client-credentials call) and every refresh after it. */
  grantId: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
  lastActivityAt: number;
  /**
   * When the token idles out unless used: its last activity plus the idle timeout that applies
   * (null: none applies, or the user is exempt). Moved later by each activity flush; the guard of
   * every idle expiry. Absent on a record not yet timed (it reads as none).
   */
  idleDeadlineAt?: number | null;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
}

/** What an activity flush writes of one token: its latest activity and the idle deadline that follows from it. */
export interface ActivityUpdate {
  id: string;
  lastActivityAt: number;
  idleDeadlineAt: number | null;
}

/**
 * A change every node must apply to its memory before a call that made it returns: an org's settings
 * or groups changed (timeouts, exclusions, bundles), or a user's exemption or groups changed.
 */
export type ClusterChange = { kind: 'org_changed'; orgId: string } | { kind: 'user_changed'; orgId: string; userId: string };

/**
 * One entry of the durable cluster log, in commit order: every ended access token (its hash), and
 * every ClusterChange. Nodes apply it past their `appliedSeq` to their caches.
 */
export type ClusterLogEntry = { seq: number; at: number } & (
  | { kind: 'token_ended'; tokenHash: string; reason: RevokeReason }
  | ClusterChange
);

/**
 * A node of a cluster: it may serve authenticated calls until `leaseUntil` (its own clock, taken
 * before the renewal was written) and has applied the cluster log up to `appliedSeq`.
 */
export interface NodeLease {
  nodeId: string;
  leaseUntil: number;
  appliedSeq: number;
}

/** A notification channel, shared by the nodes: any node answers its subscription calls, the one holding its socket delivers. */
export interface ChannelRecord {
  id: string;
  orgId: string;
  userId: string | null;
  tokenId: string;
  tokenHash: string;
  topics: string[];
  createdAt: number;
  expiresAt: number;
}

export interface RefreshToken {
  id: string;
  hash: string;
  grantId: string;
  orgId: string;
  userId: string;
  clientId: string;
  sessionId: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export interface AuditEntry {
  id: number;
  orgId: string;
  at: number;
  kind: string;
  userId: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  userId?: string;
  kind?: string;
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

export const SYSTEM_PRESENCES = ['Available', 'Away', 'Busy', 'Break', 'Meal', 'Meeting', 'Training', 'Offline', 'On Queue'] as const;
export type SystemPresence = (typeof SYSTEM_PRESENCES)[number];
export const ROUTING_STATUSES = ['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING'] as const;
export type RoutingStatus = (typeof ROUTING_STATUSES)[number];

export interface UserStatus {
  userId: string;
  orgId: string;
  presence: SystemPresence;
  presenceAt: number;
  routingStatus: RoutingStatus;
  routingAt: number;
}

export const INTERACTION_TYPES = ['voice', 'email', 'chat'] as const;
export const INTERACTION_STATES = ['connected', 'held', 'acw', 'disconnected'] as const;

export interface Interaction {
  userId: string;
  id: string;
  orgId: string;
  type: (typeof INTERACTION_TYPES)[number];
  state: Exclude<(typeof INTERACTION_STATES)[number], 'disconnected'>;
  updatedAt: number;
}

/** One token the idle expirer saw past its deadline (see Store.expireIdleTokens). */
export interface IdleExpiry {
  token: Pick<AccessToken, 'id' | 'orgId' | 'userId' | 'clientId' | 'grantId' | 'sessionId'>;
  deadline: number;
}

/** A token the store expired, and what its end decided in the same transaction. */
export interface IdleExpired {
  id: string;
  /** It was its sign-in session's last live token: the session ended, so it cannot silently undo the timeout. */
  sessionEnded: boolean;
  /** It was its user's last live token: the user is now Offline / OFF_QUEUE. */
  userOffline: boolean;
}

/** A back-channel logout waiting in the durable outbox; its id is the logout token's `jti`. */
export interface BackchannelLogout {
  id: string;
  orgId: string;
  clientId: string;
  uri: string;
  userId: string;
  sessionId: string | null;
  reason: RevokeReason;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  /** `cancelled`: its client was deleted before it was delivered; never tried again. */
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
}

/**
 * What one delivery attempt met, as a class: never a raw network error (an address, a port,
 * ECONNREFUSED against ETIMEDOUT), so the org's audit log cannot be used to probe a network.
 */
export type BackchannelResult = 'delivered' | 'http_status' | 'timeout' | 'refused_by_policy' | 'network_error';

export interface BackchannelAttempt {
  outcome: 'delivered' | 'retry' | 'failed';
  result: BackchannelResult;
  /** The HTTP status answered (results delivered and http_status). */
  statusCode: number | null;
  /** The result class when no HTTP answer came (timeout, refused_by_policy, network_error), else null. */
  error: Exclude<BackchannelResult, 'delivered' | 'http_status'> | null;
  /** When to try again (outcome retry). */
  nextAttemptAt: number | null;
}

/** Written in the same transaction as a revocation, so a crash keeps all of it or none. */
export interface RevokeExtras {
  audit?: Omit<AuditEntry, 'id'>;
  outbox?: BackchannelLogout[];
  setUserOffline?: { orgId: string; userId: string };
}

/** Which credentials one revocation ends. Each selection is revoked in one transaction. */
export type RevokeSelection =
  /** One access token only (RFC 7009 revocation of an access token). */
  | { accessTokenId: string }
  /** Every access and refresh token of one grant: a client's logout, refresh-token reuse. */
  | { grantId: string }
  /** Every token a client holds through one sign-in session, and the session itself (RP-initiated logout). */
  | { signInSessionId: string; clientId: string }
  /** Every token of a client (the client is being deleted). */
  | { clientId: string }
  /** Everything of a user: all tokens of every client and all sign-in sessions (universal logout, admin logoff). */
  | { userId: string };

export interface RevokedSet {
  accessTokens: Pick<AccessToken, 'id' | 'hash' | 'orgId' | 'userId' | 'clientId' | 'sessionId' | 'grantId'>[];
  refreshTokenIds: string[];
  signInSessionIds: string[];
  /** The sequence number of the last cluster-log entry this revocation appended (0: it ended no access token). */
  logSeq: number;
}

/** A client and the sign-in session (null: none) a user holds or held credentials of it through. */
export interface ClientSession {
  clientId: string;
  sessionId: string | null;
}
