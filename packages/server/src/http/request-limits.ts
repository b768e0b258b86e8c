import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { TooManyRequests } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';

/** API requests per access token and minute (after authentication: the key is the token, never its text). */
export const limitRequestsPerToken = (api: FastifyInstance) =>
  api.register(rateLimit, {
    hook: 'preHandler',
    max: LIMITS.requestsPerTokenPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.auth.token.id,
    errorResponseBuilder: (_request, context) =>
      TooManyRequests(`More than ${context.max} requests a minute with this access token; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
