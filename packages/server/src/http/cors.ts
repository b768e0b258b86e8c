import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { IDLE_EXPIRES_HEADER } from './token-answers.ts';

/** What a browser on a client's origin calls: discovery, keys, the token endpoints, the API, the SDK file. Never the login form or the console. */
const CORS_PATH = /^\/(?:\.well-known\/|oauth\/(?:jwks|token|revoke|introspect|userinfo)(?:[/?]|$)|api\/v2\/|sdk\/)/;

const EXPOSED = [IDLE_EXPIRES_HEADER, 'www-authenticate', 'retry-after'].join(', ');
/** Bearer requests carry no cookies, so no credentials mode. */
const PREFLIGHT = {
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'authorization, content-type, lockstep-activity',
  'access-control-max-age': '600',
};

/**
 * CORS for the origins some client allows (its redirect URIs' origins and its `allowedOrigins`).
 * Which client a request acts for is known only later (a preflight carries no credentials), so the
 * token endpoint checks its own client's origins again before it consumes anything.
 *
 * Our own hook rather than @fastify/cors: a request without `Origin` (every server-side call, and
 * the hot path) must cost one property read. @fastify/cors builds its options per request and cost
 * the authenticated hot path a fifth of its throughput in `npm run bench`.
 */
export function registerCors(app: FastifyInstance, a: Authority) {
  /** Calls back with whether `request` is a CORS request of an allowed origin on a CORS path. */
  function allowed(request: FastifyRequest, origin: string, answer: (ok: boolean) => void): void {
    if (!CORS_PATH.test(request.url)) return answer(false);
    const known = a.webOrigins.peek(origin);
    if (known !== undefined) return answer(known);
    a.webOrigins.allows(origin).then(answer, () => answer(false));
  }

  app.addHook('onRequest', function corsHeaders(request: FastifyRequest, reply: FastifyReply, done: () => void) {
    const origin = request.headers.origin;
    if (origin === undefined || request.method === 'OPTIONS') return done();
    allowed(request, origin, (ok) => {
      reply.header('vary', 'Origin');
      if (ok) reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED);
      done();
    });
  });

  app.options('*', { schema: { response: { 204: { type: 'null', description: 'CORS preflight' } } } }, function preflight(request: FastifyRequest, reply: FastifyReply) {
    const origin = request.headers.origin;
    if (origin === undefined || request.headers['access-control-request-method'] === undefined) return reply.callNotFound();
    allowed(request, origin, (ok) => {
      if (!ok) return reply.callNotFound();
      reply.code(204).header('vary', 'Origin').header('access-control-allow-origin', origin).headers(PREFLIGHT).header('content-length', 0).send();
    });
    return reply;
  });
}
