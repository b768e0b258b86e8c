import type {
  AccessToken, AuditEntry, AuthCode, BackchannelLogout, ChannelRecord, Client, ClusterLogEntry, Group, NodeLease, RefreshToken, RevokeReason,
  SignInSession, SigningKey, User,
} from '../../core/records.ts';

/** Column-to-field mapping for SQLite rows. */
type Row = any;

const json = <T>(v: string): T => JSON.parse(v) as T;

export const toUser = (r: Row): User => ({
  id: r.id, orgId: r.org_id, email: r.email, name: r.name, passwordHash: r.password_hash,
  roles: json(r.roles), version: Number(r.version), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export const toGroup = (r: Row, memberIds: string[]): Group => ({
  id: r.id, orgId: r.org_id, name: r.name, description: r.description, type: r.type, visibility: r.visibility,
  rulesVisible: Boolean(r.rules_visible), memberIds, version: Number(r.version), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export const toClient = (r: Row): Client => ({
  id: r.id, orgId: r.org_id, name: r.name, type: r.type, secretHash: r.secret_hash,
  redirectUris: json(r.redirect_uris), grantTypes: json(r.grant_types),
  postLogoutRedirectUris: json(r.post_logout_redirect_uris), backchannelLogoutUri: r.backchannel_logout_uri,
  allowedOrigins: json(r.allowed_origins), loopbackAnyPort: Boolean(r.loopback_any_port), roles: json(r.roles), createdAt: Number(r.created_at),
});

export const toSignInSession = (r: Row): SignInSession => ({
  id: r.id, tokenHash: r.token_hash, orgId: r.org_id, userId: r.user_id, authTime: Number(r.auth_time),
  createdAt: Number(r.created_at), expiresAt: Number(r.expires_at), endedAt: r.ended_at == null ? null : Number(r.ended_at),
});

export const toAuthCode = (r: Row): AuthCode => ({
  hash: r.hash, clientId: r.client_id, orgId: r.org_id, userId: r.user_id, sessionId: r.session_id,
  redirectUri: r.redirect_uri, codeChallenge: r.code_challenge, scope: r.scope, nonce: r.nonce,
  createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
});

export const toAccessToken = (r: Row): AccessToken => ({
  id: r.id, hash: r.hash, orgId: r.org_id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id,
  grantId: r.grant_id, scope: r.scope, issuedAt: Number(r.issued_at), expiresAt: Number(r.expires_at),
  lastActivityAt: Number(r.last_activity_at), idleDeadlineAt: r.idle_deadline_at == null ? null : Number(r.idle_deadline_at), revokedAt: r.revoked_at == null ? null : Number(r.revoked_at),
  revokeReason: (r.revoke_reason ?? null) as RevokeReason | null,
});

export const toRefreshToken = (r: Row): RefreshToken => ({
  id: r.id, hash: r.hash, grantId: r.grant_id, orgId: r.org_id, userId: r.user_id, clientId: r.client_id,
  sessionId: r.session_id, scope: r.scope, issuedAt: Number(r.issued_at), expiresAt: Number(r.expires_at),
  rotatedAt: r.rotated_at == null ? null : Number(r.rotated_at), revokedAt: r.revoked_at == null ? null : Number(r.revoked_at),
});

export const toAudit = (r: Row): AuditEntry => ({
  id: Number(r.id), orgId: r.org_id, at: Number(r.at), kind: r.kind, userId: r.user_id, clientId: r.client_id,
  details: json(r.details),
});

export const toBackchannelLogout = (r: Row): BackchannelLogout => ({
  id: r.id, orgId: r.org_id, clientId: r.client_id, uri: r.uri, userId: r.user_id, sessionId: r.session_id, reason: r.reason,
  createdAt: Number(r.created_at), nextAttemptAt: Number(r.next_attempt_at), attempts: Number(r.attempts), status: r.status,
});

export const toSigningKey = (r: Row): SigningKey => ({ kid: r.kid, alg: r.alg, privateJwk: r.private_jwk, createdAt: Number(r.created_at) });

export function toClusterLogEntry(r: Row): ClusterLogEntry {
  const head = { seq: Number(r.seq), at: Number(r.at) };
  switch (r.kind) {
    case 'token_ended': return { ...head, kind: 'token_ended', tokenHash: r.token_hash, reason: r.reason };
    case 'org_changed': return { ...head, kind: 'org_changed', orgId: r.org_id };
    case 'user_changed': return { ...head, kind: 'user_changed', orgId: r.org_id, userId: r.user_id };
    default: throw new Error(`unknown cluster-log kind ${String(r.kind)} at seq ${head.seq}`);
  }
}

export const toNodeLease = (r: Row): NodeLease => ({ nodeId: r.node_id, leaseUntil: Number(r.lease_until), appliedSeq: Number(r.applied_seq) });

export const toChannel = (r: Row): ChannelRecord => ({
  id: r.id, orgId: r.org_id, userId: r.user_id, tokenId: r.token_id, tokenHash: r.token_hash, topics: json(r.topics),
  createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
});
