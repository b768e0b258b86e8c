import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BadRequest } from '../core/errors.ts';

/** Genesys Cloud's `ErrorBody`, as its SDK models it (error-body.ts builds it). */
export const ApiErrorBody = Type.Object({
  status: Type.Integer(),
  code: Type.String({ description: 'Stable: switch on it, never on the message (401: token.missing, token.malformed, token.unknown, token.expired, token.idle_timeout, token.revoked)' }),
  message: Type.String(),
  messageWithParams: Type.String(),
  messageParams: Type.Record(Type.String(), Type.String()),
  contextId: Type.String({ description: 'The request id, as in the server log' }),
  details: Type.Array(Type.Object({ errorCode: Type.Optional(Type.String()), fieldName: Type.Optional(Type.String()) })),
  errors: Type.Array(Type.Unknown()),
  reason: Type.Optional(Type.String({ description: 'For code token.revoked: why (logout, universal_logout, admin_logoff, ...)' })),
}, {
  $id: 'ErrorBody', title: 'ErrorBody', description: "Every error of the API, in the shape of Genesys Cloud's ErrorBody",
  examples: [{
    status: 401, code: 'token.revoked', message: 'The access token has been revoked', messageWithParams: 'The access token has been revoked',
    messageParams: { reason: 'logout' }, contextId: '0b6f7d1e-3c55-4c1b-9a53-2f1d9c1c2a11', details: [], errors: [], reason: 'logout',
  }],
});

/** RFC 6749 §5.2: every error of the OAuth endpoints. */
export const OAuthErrorBody = Type.Object({
  error: Type.String({ description: 'invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_token, access_denied, ...' }),
  error_description: Type.Optional(Type.String()),
}, { $id: 'OAuthError', title: 'OAuthError', examples: [{ error: 'invalid_grant', error_description: 'The authorization code is invalid, expired, already used or not issued to this client' }] });

/**
 * Schemas the routes name by `$ref`, one component each in the OpenAPI document. They must be added to the root
 * instance before any route that refers to them (openapi.ts does, before the first route).
 */
export const SHARED_SCHEMAS = [ApiErrorBody, OAuthErrorBody];

const ref = <T extends TSchema>(schema: T, description: string) => Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#`, description });

const API_ERROR_STATUSES = {
  400: 'Bad request: the message says which input is wrong',
  401: 'No live access token: the code says why (also in WWW-Authenticate)',
  403: 'The token lacks a role this call needs',
  404: 'No such resource in this organization',
  409: 'Conflict: a stale version, or a value another resource already has',
  413: 'The request body is too large',
  415: 'Unsupported Content-Type',
  429: 'Too many requests (Retry-After says when to retry)',
  500: 'Internal server error',
  503: 'This node cannot vouch for tokens right now (cluster lease lapsed): retry, another node will answer',
} as const;

const errorsOf = <S extends number>(statuses: readonly S[], body: TSchema, text: Record<number, string>) =>
  Object.fromEntries(statuses.map((s) => [s, ref(body, text[s]!)])) as Record<S, TSchema>;

/** The error statuses any API route can answer; merged into every route's response schema. */
export const apiErrors = errorsOf([400, 401, 403, 404, 409, 413, 415, 429, 500, 503], ApiErrorBody, API_ERROR_STATUSES);

const OAUTH_ERROR_STATUSES: Record<number, string> = {
  400: 'invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, ...',
  401: 'invalid_client: client authentication failed (WWW-Authenticate: Basic when Basic was sent); invalid_token on bearer endpoints',
  403: 'access_denied / insufficient_scope',
  404: 'No such subject',
  413: 'The request body is too large',
  415: 'Unsupported Content-Type',
  429: 'Too many requests',
  500: 'server_error',
  503: 'This node cannot vouch for tokens right now (cluster lease lapsed): retry',
};
export const apiError = (description: string) => ref(ApiErrorBody, description);
export const oauthError = (status: number) => ref(OAuthErrorBody, OAUTH_ERROR_STATUSES[status]!);
export const oauthErrors = errorsOf([400, 401, 413, 415, 429, 500], OAuthErrorBody, OAUTH_ERROR_STATUSES);

/** The security requirements of the OpenAPI document (schemes declared in openapi.ts). */
type SecurityRequirement = Record<string, string[]>;
export const bearerAuth: SecurityRequirement[] = [{ bearerAuth: [] }];
/** client_secret_basic, or client_secret_post / a public client's bare client_id in the body (no requirement). */
export const clientAuth: SecurityRequirement[] = [{ clientSecretBasic: [] }, {}];
/** OAuth endpoints take form bodies (RFC 6749) and JSON alike. */
export const FORM_OR_JSON = ['application/x-www-form-urlencoded', 'application/json'];
export const FORM = ['application/x-www-form-urlencoded'];
/** Pages: every answer is HTML, errors included (error-handler.ts). */
export const HTML = ['text/html'];

export const Html = Type.String({ description: 'text/html page' });
export const NoContent = Type.Null({ description: 'No content' });
export const Redirect = (description: string) => Type.Null({ description, headers: { location: Type.String({ description: 'Where the browser goes next' }) } });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** `?pageSize=&pageNumber=` of every list (Genesys Cloud's paging). */
export const pageQueryFields = {
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 25 })),
  pageNumber: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
};
export const PageQuery = Type.Object(pageQueryFields);
export type PageRequest = { pageSize?: number; pageNumber?: number };

/** Genesys Cloud's `*EntityListing`: one page of a list. */
export const Paged = <T extends TSchema>(item: T) => Type.Object({
  entities: Type.Array(item), pageSize: Type.Integer(), pageNumber: Type.Integer(), total: Type.Integer(), pageCount: Type.Integer(),
});

/**
 * The page asked for. Ajv's coercion lets `Infinity` and `1e400` through an integer schema with a maximum,
 * so the bounds are checked again here.
 */
export function pageParams({ pageSize = 25, pageNumber = 1 }: PageRequest) {
  if (!Number.isSafeInteger(pageSize) || pageSize > 500) throw BadRequest('querystring/pageSize must be <= 500');
  if (!Number.isSafeInteger(pageNumber) || pageNumber > 1_000_000) throw BadRequest('querystring/pageNumber must be <= 1000000');
  return { pageSize, pageNumber, offset: (pageNumber - 1) * pageSize };
}

/** The page of a list the store answered in whole; `pageOf` when the store paged it itself. */
export function page<T, V>(all: readonly T[], q: PageRequest, view: (item: T) => V) {
  const { pageSize, offset } = pageParams(q);
  return pageOf(all.slice(offset, offset + pageSize).map(view), all.length, q);
}
export function pageOf<V>(entities: V[], total: number, q: PageRequest) {
  const { pageSize, pageNumber } = pageParams(q);
  return { entities, pageSize, pageNumber, total, pageCount: Math.ceil(total / pageSize) };
}

export const Iso = Type.String({ format: 'date-time' });
export const iso = (ms: number) => new Date(ms).toISOString();
