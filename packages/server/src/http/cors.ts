import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { IDLE_EXPIRES_HEADER } from './token-answers.ts';

/** What a browser on a client's origin calls: discovery, keys, the token endpoints, the API, the SDK file. Never the login form or the console. */
const CORS_PATH = /^\/(?:\.well-known\/|oauth\/(?:jwks|token|revoke|introspect|userinfo)(?:[/?]|$)|api\/v2\/|sdk\/)/;

/** Bearer requests: no cookies, so no credentials mode. */
const ALLOW: FastifyCorsOptions = {
  origin: true,
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['authorization', 'content-type', 'lockstep-activity'],
  exposedHeaders: [IDLE_EXPIRES_HEADER, 'www-authenticate', 'retry-after'],
  maxAge: 600,
  credentials: false,
};
const DENY: FastifyCorsOptions = { origin: false };

/**
 * CORS for the origins some client allows (its redirect URIs' origins and its `allowedOrigins`).
 * Which client a request acts for is known only later (a preflight carries no credentials), so the
 * token endpoint checks its own client's origins again before it consumes anything.
 */
export async function registerCors(app: FastifyInstance, a: Authority) {
  await app.register(cors, {
    delegator(request: FastifyRequest, answer: (err: Error | null, options: FastifyCorsOptions) => void) {
      const origin = request.headers.origin;
      if (!origin || !CORS_PATH.test(request.url)) return answer(null, DENY);
      const known = a.webOrigins.peek(origin);
      if (known !== undefined) return answer(null, known ? ALLOW : DENY);
      a.webOrigins.allows(origin).then((ok) => answer(null, ok ? ALLOW : DENY), (err: Error) => answer(err, DENY));
    },
  });
}
