import { Type, type TSchema } from '@sinclair/typebox';
import { BadRequest } from '../core/errors.ts';

/** Genesys Cloud's `ErrorBody`, as its SDK models it. */
export const ApiErrorBody = Type.Object({
  status: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  messageWithParams: Type.String(),
  messageParams: Type.Record(Type.String(), Type.String()),
  contextId: Type.String({ description: 'The request id, as in the server log' }),
  details: Type.Array(Type.Object({ errorCode: Type.Optional(Type.String()), fieldName: Type.Optional(Type.String()) })),
  errors: Type.Array(Type.Unknown()),
  reason: Type.Optional(Type.String({ description: 'For code token.revoked: why (logout, universal_logout, admin_logoff, ...)' })),
});

export const OAuthErrorBody = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
});

/** The error statuses any API route can answer; merged into every route's response schema. */
export const apiErrors = {
  400: ApiErrorBody, 401: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody,
  413: ApiErrorBody, 415: ApiErrorBody, 429: ApiErrorBody,
} as const;

export const oauthErrors = { 400: OAuthErrorBody, 401: OAuthErrorBody, 413: OAuthErrorBody, 415: OAuthErrorBody, 429: OAuthErrorBody } as const;

export const Html = Type.String({ description: 'text/html page' });
export const NoContent = Type.Null({ description: 'No content' });

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
