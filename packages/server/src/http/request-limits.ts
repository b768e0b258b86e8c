import type { FastifyReply } from 'fastify';
import { TooManyRequests, type ApiError } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';
import { spendRequest, type LiveToken } from '../core/live-token.ts';

/**
 * API requests per access token and minute, counted on the token this node holds once it is admitted (the
 * authentication hook calls this: a hook of its own would cost every API request a stage of Fastify's hooks).
 */
export function overRequestBudget(token: LiveToken, now: number, reply: FastifyReply): ApiError | undefined {
  const max = LIMITS.requestsPerTokenPerMinute;
  const waitMs = spendRequest(token, now, max);
  if (!waitMs) return undefined;
  const seconds = Math.ceil(waitMs / 1000);
  reply.header('retry-after', seconds);
  return TooManyRequests(`More than ${max} requests a minute with this access token; retry in ${seconds} s`);
}
