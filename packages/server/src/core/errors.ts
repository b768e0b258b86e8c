/**
 * Every error Lockstep answers with has a stable code. API routes answer
 * `{status, code, message}`; OAuth endpoints answer RFC 6749 `{error, error_description}`.
 */
export const API_ERROR_CODES = {
  'bad.request': 400,
  'token.missing': 401,
  'token.malformed': 401,
  'token.unknown': 401,
  'token.expired': 401,
  'token.idle_timeout': 401,
  'token.revoked': 401,
  'missing.permission': 403,
  'not.found': 404,
  'conflict': 409,
  'payload.too.large': 413,
  'unsupported.media.type': 415,
  'too.many.requests': 429,
  'internal.server.error': 500,
  'service.unavailable': 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** For `token.revoked`: why (logout, universal_logout, admin_logoff...), answered as `reason`. */
    readonly reason?: string,
  ) {
    super(message);
    this.status = API_ERROR_CODES[code];
  }
}

/** The 401 codes: why a bearer token was refused. Clients switch on them, never on the message. */
export type TokenErrorCode = Extract<ApiErrorCode, `token.${string}`>;

const E = (code: ApiErrorCode) => (message: string) => new ApiError(code, message);
export const BadRequest = E('bad.request');
export const Forbidden = E('missing.permission');
export const NotFound = E('not.found');
export const Conflict = E('conflict');
export const TooManyRequests = E('too.many.requests');
export const ServiceUnavailable = E('service.unavailable');
export const TokenRefused = (code: TokenErrorCode, message: string, reason?: string) => new ApiError(code, message, reason);

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'login_required'
  | 'temporarily_unavailable'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }
}

const O = (error: OAuthErrorCode) => (description: string) => new OAuthError(error, description);
export const InvalidRequest = O('invalid_request');
export const InvalidClient = O('invalid_client');
export const InvalidGrant = O('invalid_grant');
export const UnauthorizedClient = O('unauthorized_client');
export const UnsupportedGrantType = O('unsupported_grant_type');
