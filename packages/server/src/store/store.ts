import type {
  AccessToken, ActivityUpdate, ClusterChange, ClusterLogEntry, NodeLease, ChannelRecord, IdleExpired, AuditEntry, AuditFilter, AuthCode, Client, ClientSession, Group, Org, OrgSettings,
  RefreshToken, RevokeReason, RevokedSet, RevokeSelection, SignInSession, SigningKey, User, UserStatus, Interaction, IdleExpiry,
  BackchannelLogout, BackchannelAttempt, RevokeExtras,
} from '../core/records.ts';

/** Raised by create/update when a unique value (user email, client id) is taken. */
export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
}

/**
 * The one persistence interface. Every implementation passes `test/store-conformance.ts`.
 * Methods that take an `orgId` never see another org's rows, whatever the id.
 */
export interface Store {
  close(): Promise<void>;
  /** Migrations this code has that the database has not recorded (0: up to date). One cheap query: readiness probes call it. */
  pendingMigrations(): Promise<number>;

  createOrg(org: Org, settings: OrgSettings): Promise<void>;
  getOrg(id: string): Promise<Org | null>;
  countOrgs(): Promise<number>;
  getOrgSettings(orgId: string): Promise<OrgSettings | null>;
  saveOrgSettings(orgId: string, settings: OrgSettings): Promise<void>;

  createUser(user: User): Promise<void>;
  getUser(orgId: string, id: string): Promise<User | null>;
  /** Sign-in names are unique across orgs, so login needs no org picker. */
  findUserByEmail(email: string): Promise<User | null>;
  listUsers(orgId: string): Promise<User[]>;
  /** Writes `user` when the stored version is `user.version - 1`; false when it is not (changed meanwhile, or gone). */
  updateUser(user: User): Promise<boolean>;
  deleteUser(orgId: string, id: string): Promise<boolean>;

  createGroup(group: Group): Promise<void>;
  getGroup(orgId: string, id: string): Promise<Group | null>;
  listGroups(orgId: string): Promise<Group[]>;
  /** Like updateUser: the group with its members, when the stored version is `group.version - 1`. */
  updateGroup(group: Group): Promise<boolean>;
  deleteGroup(orgId: string, id: string): Promise<boolean>;
  listGroupIdsOfUser(orgId: string, userId: string): Promise<string[]>;

  createClient(client: Client): Promise<void>;
  /** Client ids are global: OAuth requests name a client without an org. */
  getClient(id: string): Promise<Client | null>;
  listClients(orgId: string): Promise<Client[]>;
  /** Every org's clients: the union of their web origins answers CORS. */
  listAllClients(): Promise<Client[]>;
  updateClient(client: Client): Promise<void>;
  /** Deletes the client and, in the same transaction, cancels its pending back-channel logouts (status cancelled). */
  deleteClient(orgId: string, id: string): Promise<boolean>;

  listSigningKeys(): Promise<SigningKey[]>;
  /**
   * Stores `candidate` when there is no signing key yet and returns the key every node signs with: the
   * candidate, or the one another node stored first. Nodes starting together on an empty store agree.
   */
  ensureSigningKey(candidate: SigningKey): Promise<SigningKey>;

  createSignInSession(session: SignInSession): Promise<void>;
  findSignInSessionByHash(tokenHash: string): Promise<SignInSession | null>;
  /** By id, ended or not: its `authTime` is the `auth_time` of every ID token issued through it. */
  getSignInSession(id: string): Promise<SignInSession | null>;

  saveAuthCode(code: AuthCode): Promise<void>;
  /** Race-safe single use: returns the code the first time, null on every later call or once expired. */
  consumeAuthCode(hash: string, now: number): Promise<AuthCode | null>;
  /** The code with this hash if it has been used already: a second use means it leaked (RFC 6749 §4.1.2). */
  findUsedAuthCode(hash: string): Promise<AuthCode | null>;
  /** Live (not revoked, not expired) access tokens issued through one sign-in session. */
  countLiveAccessTokensOfSession(sessionId: string, now: number): Promise<number>;
  /**
   * Deletes what can no longer be used nor answer anything but "unknown": tokens, codes and sign-in sessions
   * expired or ended before `before`, finished back-channel deliveries created before it, cluster-log entries
   * and channels older than it, node rows lapsed before it. The audit log stays.
   */
  purgeExpired(before: number): Promise<PurgeCounts>;

  saveAccessToken(token: AccessToken): Promise<void>;
  findAccessTokenByHash(hash: string): Promise<AccessToken | null>;
  /** The user's unrevoked, unexpired access tokens, oldest first, at most `limit` (a stored idle deadline past is not judged here). */
  liveAccessTokensOfUser(orgId: string, userId: string, now: number, limit: number): Promise<AccessToken[]>;
  /** Unrevoked, unexpired access tokens whose stored idle deadline is at or before `now`, earliest first, at most `limit`. */
  dueIdleTokens(now: number, limit: number): Promise<AccessToken[]>;
  /**
   * Writes back coalesced activity with the idle deadline it gives (null: none applies). An update whose
   * activity is older than the stored one changes nothing (another node saw later activity); an ended token
   * is not touched.
   */
  recordActivity(batch: ActivityUpdate[]): Promise<void>;

  /** The sequence number of the newest cluster-log entry (0: none yet). */
  lastLogSeq(): Promise<number>;
  /**
   * Cluster-log entries after `seq`, oldest first: every access token ended by `revoke` or `expireIdleTokens`
   * (token_ended) and every appended change, in commit order. No entry appears after one with a higher seq later:
   * an append still open holds back the entries after it (fewer, or none, are returned until it commits).
   */
  logAfter(seq: number, limit: number): Promise<ClusterLogEntry[]>;
  /** Appends a change to the cluster log; returns its sequence number. */
  appendChange(change: ClusterChange, at: number): Promise<number>;

  /** Upserts the node's row; its `appliedSeq` never moves back. */
  renewNodeLease(lease: NodeLease): Promise<void>;
  /** Every node's row, lapsed or not. */
  listNodeLeases(): Promise<NodeLease[]>;
  /** Removes the node's row (clean shutdown: nobody waits for it any more). */
  releaseNodeLease(nodeId: string): Promise<void>;

  saveChannel(channel: ChannelRecord): Promise<void>;
  getChannel(id: string): Promise<ChannelRecord | null>;
  /** Replaces the channel's topics; false when there is no such channel. */
  setChannelTopics(id: string, topics: string[]): Promise<boolean>;
  deleteChannel(id: string): Promise<boolean>;

  saveRefreshToken(token: RefreshToken): Promise<void>;
  findRefreshTokenByHash(hash: string): Promise<RefreshToken | null>;
  /**
   * Atomically marks `previousId` rotated and stores `next`. Returns false, storing nothing,
   * when `previousId` was already rotated or revoked: the caller is looking at a reused token.
   */
  rotateRefreshToken(previousId: string, next: RefreshToken, now: number): Promise<boolean>;

  /**
   * Revokes everything the selection names that is still live, in one transaction, appending each
   * ended access token to the cluster log. `extras` sees what was revoked and names what commits with it: the audit entry, back-channel
   * logouts for the outbox, a user to set offline. All of it or none survives a crash.
   * `extras`' second argument answers, inside the transaction, every (client, sign-in session)
   * the revoked credentials and the sign-in sessions that ended tie their users to: the revoked
   * access and refresh tokens' own, and every client's tokens (live or not) issued through a
   * sign-in session this revocation ended.
   */
  revoke(
    selection: RevokeSelection, now: number, reason: RevokeReason,
    extras?: (revoked: Omit<RevokedSet, 'logSeq'>, clientSessions: () => ClientSession[]) => RevokeExtras,
  ): Promise<RevokedSet>;

  /**
   * Claims pending back-channel logouts whose next attempt is due, oldest first, until `claimUntil`:
   * no other call (on any node) returns them before then, unless an attempt is recorded. `except` leaves
   * out rows by URI (their receiver is busy here), so they do not crowd out the others.
   */
  claimBackchannelLogouts(now: number, limit: number, claimUntil: number, except?: { uris?: readonly string[] }): Promise<BackchannelLogout[]>;
  /**
   * Records one delivery attempt (and its audit entry) and moves a pending outbox row on. A row that
   * is no longer pending (cancelled while the attempt was in flight) keeps its status; the attempt
   * is still recorded, without a next attempt. The claim ends.
   */
  recordBackchannelAttempt(id: string, at: number, attempt: BackchannelAttempt): Promise<void>;
  /** The outbox at a glance (each metrics scrape reads it): pending rows, claimed or not, and when the oldest was queued (null: none). */
  backchannelOutboxStats(): Promise<OutboxStats>;

  /**
   * One sweep of the idle expirer, in one transaction: revokes each token whose stored idle deadline has
   * passed (one moved later or lifted meanwhile keeps it; reason idle_timeout) and its grant's refresh
   * tokens, appends each to the cluster log and writes one audit entry per token. Tokens already revoked
   * are skipped, so concurrent sweeps of several nodes expire each token once. Then, decided in the same
   * transaction: a sign-in session left without a live access token ends; a user left without one is set
   * Offline / OFF_QUEUE. Live means unrevoked, unexpired and not past a stored idle deadline.
   */
  expireIdleTokens(batch: IdleExpiry[], now: number): Promise<IdleExpired[]>;

  getUserStatus(orgId: string, userId: string): Promise<UserStatus | null>;
  saveUserStatus(status: UserStatus): Promise<void>;

  /** Upserts an open interaction; `deleteInteraction` is its disconnect. */
  saveInteraction(interaction: Interaction): Promise<void>;
  deleteInteraction(userId: string, id: string): Promise<boolean>;
  /** The open interactions, of one user when `userId` is given. */
  listInteractions(userId?: string): Promise<Interaction[]>;

  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  /** Newest first; `total` counts every entry the filter matches, `entries` the page of it. */
  listAudit(orgId: string, filter: AuditFilter): Promise<{ entries: AuditEntry[]; total: number }>;
}

export interface PurgeCounts {
  accessTokens: number;
  refreshTokens: number;
  authCodes: number;
  signInSessions: number;
  backchannelDeliveries: number;
  clusterLog: number;
  channels: number;
}

export interface OutboxStats {
  pending: number;
  oldestCreatedAt: number | null;
}
