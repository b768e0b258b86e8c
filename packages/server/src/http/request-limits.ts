import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { TooManyRequests } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';
import { spendRequest } from '../core/live-token.ts';

/** API requests per access token and minute, counted after authentication on the token this node holds. */
export function limitRequestsPerToken(api: FastifyInstance, clock: Clock): void {
  const max = LIMITS.requestsPerTokenPerMinute;
  api.addHook('preHandler', function requestBudget(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const waitMs = spendRequest(request.auth.token, clock.now(), max);
    if (!waitMs) return done();
    const seconds = Math.ceil(waitMs / 1000);
    reply.header('retry-after', seconds);
    done(TooManyRequests(`More than ${max} requests a minute with this access token; retry in ${seconds} s`));
  });
}
