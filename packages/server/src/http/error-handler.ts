import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, OAuthError, type ApiErrorCode } from '../core/errors.ts';
import { messagePage } from '../web/html.ts';
import { apiErrorBody } from './error-body.ts';
import { IDLE_EXPIRES_HEADER, wwwAuthenticate } from './token-answers.ts';

const isOAuthRoute = (url: string) => url.startsWith('/oauth/');
/** Pages a browser shows: every error on them is a page too (their response schemas are HTML strings, not JSON). */
const HTML_ROUTES = new Set(['/oauth/authorize', '/oauth/logout', '/logout']);

function send(request: FastifyRequest, reply: FastifyReply, status: number, code: ApiErrorCode, message: string, oauthError?: string, reason?: string) {
  if (HTML_ROUTES.has(request.routeOptions?.url ?? '')) {
    return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8')
      .send(messagePage(status >= 500 ? 'Something went wrong' : 'Bad request', message));
  }
  if (isOAuthRoute(request.url)) {
    const error = oauthError ?? (code.startsWith('token.') ? 'invalid_token' : code === 'missing.permission' ? 'insufficient_scope' : 'invalid_request');
    return reply.code(status).header('cache-control', 'no-store').send({ error, error_description: message });
  }
  return reply.code(status).send(apiErrorBody(status, code, message, request.id, reason));
}

/** Parser and framework errors by Fastify code, with the message a caller can act on. */
const FRAMEWORK: Record<string, [number, ApiErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload.too.large', 'The request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported.media.type', 'Unsupported Content-Type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad.request', 'The JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'bad.request', 'The body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad.request', 'Content-Length does not match the body'],
  FST_ERR_BAD_URL: [400, 'bad.request', 'The URL is not valid (malformed percent-encoding)'],
  FST_ERR_MAX_PARAM_LENGTH: [400, 'bad.request', 'A path parameter is longer than allowed'],
};

/** Router errors Fastify raises before any route or hook (Fastify's `frameworkErrors` option): same body shapes as every other error. */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // Refused before routing, an upgrade request misses the onResponse hook that closes its socket (server.ts).
  if (request.headers.upgrade !== undefined) reply.raw.once('finish', () => request.raw.socket?.destroy());
  const known = err.code ? FRAMEWORK[err.code] : undefined;
  return known ? send(request, reply, known[0], known[1], known[2]) : send(request, reply, 400, 'bad.request', err.message);
}

/** `timeUnmatched`: records the requests that matched no route (the routes' own are timed by `timeRequests`). */
export function installErrorHandlers(app: FastifyInstance, timeUnmatched: (method: string, status: number, seconds: number) => void) {
  app.setErrorHandler((err: FastifyError | ApiError | OAuthError, request, reply) => {
    if (err instanceof ApiError) {
      if (err.status === 401) reply.removeHeader(IDLE_EXPIRES_HEADER).header('www-authenticate', wwwAuthenticate(err));
      return send(request, reply, err.status, err.code, err.message, undefined, err.reason);
    }
    if (err instanceof OAuthError) {
      if (err.error === 'invalid_client' && request.headers.authorization?.startsWith('Basic ')) {
        reply.header('www-authenticate', 'Basic realm="lockstep"');
      }
      return send(request, reply, err.status, 'bad.request', err.description, err.error);
    }
    if (err.validation) {
      return send(request, reply, 400, 'bad.request', err.message);
    }
    const known = err.code ? FRAMEWORK[err.code] : undefined;
    if (known) return send(request, reply, known[0], known[1], known[2]);
    if (err instanceof SyntaxError || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      return send(request, reply, err.statusCode ?? 400, 'bad.request', err.message);
    }
    request.log.error({ err, reqId: request.id, method: request.method, url: request.url.split('?', 1)[0] }, 'unhandled error');
    return send(request, reply, 500, 'internal.server.error', 'Internal server error', 'server_error');
  });

  app.setNotFoundHandler((request, reply) => {
    timeUnmatched(request.method, 404, reply.elapsedTime / 1000);
    return send(request, reply, 404, 'not.found', `No route ${request.method} ${request.url.split('?')[0]}`);
  });
}
