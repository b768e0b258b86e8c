import { Type, type TSchema } from '@sinclair/typebox';

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

export const Entities = <T extends TSchema>(item: T) => Type.Object({ entities: Type.Array(item), total: Type.Integer() });

export const Iso = Type.String({ format: 'date-time' });
export const iso = (ms: number) => new Date(ms).toISOString();
