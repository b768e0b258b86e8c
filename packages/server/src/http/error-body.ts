import type { ApiError, ApiErrorCode } from '../core/errors.ts';

/**
 * The API's error body, in the shape of Genesys Cloud's `ErrorBody` (what its SDK parses): `contextId` is the
 * request's id, as in its log lines; a refused token adds why it was revoked as `reason`.
 */
export function apiErrorBody(status: number, code: ApiErrorCode, message: string, contextId: string, reason?: string) {
  return {
    status, code, message, messageWithParams: message, messageParams: reason ? { reason } : {}, contextId, details: [], errors: [],
    ...(reason ? { reason } : {}),
  };
}

export const errorBody = (err: ApiError, contextId: string) => apiErrorBody(err.status, err.code, err.message, contextId, err.reason);
