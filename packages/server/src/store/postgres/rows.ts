import type {
  AccessToken, AuditEntry, AuthCode, BackchannelLogout, ChannelRecord, Client, ClusterLogEntry, Group, Interaction, NodeLease, Org,
  RefreshToken, SignInSession, SigningKey, User, UserStatus,
} from '../../core/records.ts';

/**
 * Records to columns and back. BIGINT columns (milliseconds, sequence numbers, ids) come back from
 * node-postgres as text and become numbers here; JSONB comes back parsed. JSONB parameters are
 * passed as JSON text: node-postgres would send a JS array as a PostgreSQL array literal.
 */
export type Row = any;
export type Columns = Record<string, unknown>;

const json = JSON.stringify;

/** A BIGINT as a JS number: every value Lockstep stores (epoch milliseconds, counters, seqs) fits one exactly. */
export function num(v: unknown): number {
  const n = Number(v);
  if (v == null || !Number.isSafeInteger(n)) throw new RangeError(`${String(v)} is not an integer a JavaScript number holds exactly`);
  return n;
}
const numOrNull = (v: unknown): number | null => (v == null ? null : num(v));

export const toOrg = (r: Row): Org => ({ id: r.id, name: r.name, createdAt: num(r.created_at) });

export const userColumns = (u: User): Columns => ({
  id: u.id, org_id: u.orgId, email: u.email, name: u.name, password_hash: u.passwordHash, roles: json(u.roles),
  version: u.version, created_at: u.createdAt, updated_at: u.updatedAt,
});
export const toUser = (r: Row): User => ({
  id: r.id, orgId: r.org_id, email: r.email, name: r.name, passwordHash: r.password_hash, roles: r.roles,
  version: num(r.version), createdAt: num(r.created_at), updatedAt: num(r.updated_at),
});

export const groupColumns = (g: Group): Columns => ({
  id: g.id, org_id: g.orgId, name: g.name, description: g.description, type: g.type, visibility: g.visibility,
  rules_visible: g.rulesVisible, version: g.version, created_at: g.createdAt, updated_at: g.updatedAt,
});
/** `r.member_ids`: the group's members, selected alongside it. */
export const toGroup = (r: Row): Group => ({
  id: r.id, orgId: r.org_id, name: r.name, description: r.description, type: r.type, visibility: r.visibility,
  rulesVisible: r.rules_visible, memberIds: r.member_ids, version: num(r.version), createdAt: num(r.created_at), updatedAt: num(r.updated_at),
});

export const clientColumns = (c: Client): Columns => ({
  id: c.id, org_id: c.orgId, name: c.name, type: c.type, secret_hash: c.secretHash, redirect_uris: json(c.redirectUris),
  grant_types: json(c.grantTypes), post_logout_redirect_uris: json(c.postLogoutRedirectUris),
  backchannel_logout_uri: c.backchannelLogoutUri, allowed_origins: json(c.allowedOrigins), loopback_any_port: c.loopbackAnyPort,
  roles: json(c.roles), created_at: c.createdAt,
});
export const toClient = (r: Row): Client => ({
  id: r.id, orgId: r.org_id, name: r.name, type: r.type, secretHash: r.secret_hash, redirectUris: r.redirect_uris,
  grantTypes: r.grant_types, postLogoutRedirectUris: r.post_logout_redirect_uris, backchannelLogoutUri: r.backchannel_logout_uri,
  allowedOrigins: r.allowed_origins, loopbackAnyPort: r.loopback_any_port, roles: r.roles, createdAt: num(r.created_at),
});

export const toSigningKey = (r: Row): SigningKey => ({ kid: r.kid, alg: r.alg, privateJwk: r.private_jwk, createdAt: num(r.created_at) });

export const signInSessionColumns = (s: SignInSession): Columns => ({
  id: s.id, token_hash: s.tokenHash, org_id: s.orgId, user_id: s.userId, auth_time: s.authTime, created_at: s.createdAt,
  expires_at: s.expiresAt, ended_at: s.endedAt,
});
export const toSignInSession = (r: Row): SignInSession => ({
  id: r.id, tokenHash: r.token_hash, orgId: r.org_id, userId: r.user_id, authTime: num(r.auth_time), createdAt: num(r.created_at),
  expiresAt: num(r.expires_at), endedAt: numOrNull(r.ended_at),
});

export const authCodeColumns = (c: AuthCode): Columns => ({
  hash: c.hash, client_id: c.clientId, org_id: c.orgId, user_id: c.userId, session_id: c.sessionId, redirect_uri: c.redirectUri,
  code_challenge: c.codeChallenge, scope: c.scope, nonce: c.nonce, created_at: c.createdAt, expires_at: c.expiresAt,
});
export const toAuthCode = (r: Row): AuthCode => ({
  hash: r.hash, clientId: r.client_id, orgId: r.org_id, userId: r.user_id, sessionId: r.session_id, redirectUri: r.redirect_uri,
  codeChallenge: r.code_challenge, scope: r.scope, nonce: r.nonce, createdAt: num(r.created_at), expiresAt: num(r.expires_at),
});

export const accessTokenColumns = (t: AccessToken): Columns => ({
  id: t.id, hash: t.hash, org_id: t.orgId, user_id: t.userId, client_id: t.clientId, session_id: t.sessionId, grant_id: t.grantId,
  scope: t.scope, issued_at: t.issuedAt, expires_at: t.expiresAt, last_activity_at: t.lastActivityAt,
  idle_deadline_at: t.idleDeadlineAt ?? null, revoked_at: t.revokedAt, revoke_reason: t.revokeReason,
});
export const toAccessToken = (r: Row): AccessToken => ({
  id: r.id, hash: r.hash, orgId: r.org_id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id, grantId: r.grant_id,
  scope: r.scope, issuedAt: num(r.issued_at), expiresAt: num(r.expires_at), lastActivityAt: num(r.last_activity_at),
  idleDeadlineAt: numOrNull(r.idle_deadline_at), revokedAt: numOrNull(r.revoked_at), revokeReason: r.revoke_reason,
});

export const refreshTokenColumns = (t: RefreshToken): Columns => ({
  id: t.id, hash: t.hash, grant_id: t.grantId, org_id: t.orgId, user_id: t.userId, client_id: t.clientId, session_id: t.sessionId,
  scope: t.scope, issued_at: t.issuedAt, expires_at: t.expiresAt, rotated_at: t.rotatedAt, revoked_at: t.revokedAt,
});
export const toRefreshToken = (r: Row): RefreshToken => ({
  id: r.id, hash: r.hash, grantId: r.grant_id, orgId: r.org_id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id,
  scope: r.scope, issuedAt: num(r.issued_at), expiresAt: num(r.expires_at), rotatedAt: numOrNull(r.rotated_at), revokedAt: numOrNull(r.revoked_at),
});

export const userStatusColumns = (s: UserStatus): Columns => ({
  user_id: s.userId, org_id: s.orgId, presence: s.presence, presence_at: s.presenceAt, routing_status: s.routingStatus, routing_at: s.routingAt,
});
export const toUserStatus = (r: Row): UserStatus => ({
  userId: r.user_id, orgId: r.org_id, presence: r.presence, presenceAt: num(r.presence_at), routingStatus: r.routing_status,
  routingAt: num(r.routing_at),
});

export const interactionColumns = (i: Interaction): Columns => ({
  user_id: i.userId, id: i.id, org_id: i.orgId, type: i.type, state: i.state, updated_at: i.updatedAt,
});
export const toInteraction = (r: Row): Interaction => ({
  userId: r.user_id, id: r.id, orgId: r.org_id, type: r.type, state: r.state, updatedAt: num(r.updated_at),
});

/** Not passed through `json`: these go into `jsonb_populate_recordset` as one JSON array, details as a nested value. */
export const auditColumns = (e: Omit<AuditEntry, 'id'>): Columns => ({
  org_id: e.orgId, at: e.at, kind: e.kind, user_id: e.userId, client_id: e.clientId, details: e.details,
});
export const toAudit = (r: Row): AuditEntry => ({
  id: num(r.id), orgId: r.org_id, at: num(r.at), kind: r.kind, userId: r.user_id, clientId: r.client_id, details: r.details,
});

/** Like auditColumns, for `jsonb_populate_recordset`. */
export const outboxColumns = (o: BackchannelLogout): Columns => ({
  id: o.id, org_id: o.orgId, client_id: o.clientId, uri: o.uri, user_id: o.userId, session_id: o.sessionId, reason: o.reason,
  created_at: o.createdAt, next_attempt_at: o.nextAttemptAt, attempts: o.attempts, status: o.status,
});
export const toBackchannelLogout = (r: Row): BackchannelLogout => ({
  id: r.id, orgId: r.org_id, clientId: r.client_id, uri: r.uri, userId: r.user_id, sessionId: r.session_id, reason: r.reason,
  createdAt: num(r.created_at), nextAttemptAt: num(r.next_attempt_at), attempts: num(r.attempts), status: r.status,
});

export function toClusterLogEntry(r: Row): ClusterLogEntry {
  const head = { seq: num(r.seq), at: num(r.at) };
  switch (r.kind) {
    case 'token_ended': return { ...head, kind: 'token_ended', tokenHash: r.token_hash, reason: r.reason };
    case 'org_changed': return { ...head, kind: 'org_changed', orgId: r.org_id };
    case 'user_changed': return { ...head, kind: 'user_changed', orgId: r.org_id, userId: r.user_id };
    default: throw new Error(`unknown cluster-log kind ${String(r.kind)} at seq ${head.seq}`);
  }
}

export const toNodeLease = (r: Row): NodeLease => ({ nodeId: r.node_id, leaseUntil: num(r.lease_until), appliedSeq: num(r.applied_seq) });

export const channelColumns = (c: ChannelRecord): Columns => ({
  id: c.id, org_id: c.orgId, user_id: c.userId, token_id: c.tokenId, token_hash: c.tokenHash, topics: json(c.topics),
  created_at: c.createdAt, expires_at: c.expiresAt,
});
export const toChannel = (r: Row): ChannelRecord => ({
  id: r.id, orgId: r.org_id, userId: r.user_id, tokenId: r.token_id, tokenHash: r.token_hash, topics: r.topics,
  createdAt: num(r.created_at), expiresAt: num(r.expires_at),
});
