import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers of the pages (login, sign-out, console, demos, their scripts), not of the API
 * (a JSON answer is not rendered, and every header costs the hot path).
 * - Not framed by other sites: `frame-ancestors 'self'` and X-Frame-Options; pages meant to be
 *   embedded set their own allowed ancestors.
 * - Referrer only to this origin: a URL with a code or an id_token_hint does not leave it.
 * - No Cross-Origin-Opener-Policy: the SDK's popup sign-in needs its opener; no
 *   Cross-Origin-Resource-Policy: the SDK script is loaded by other origins.
 * - The inline config script of the console and demos stays allowed: the policy names no sources,
 *   only ancestors, plugins and the base URI (helmet's own policy insists on a default-src).
 */
export const PAGE_POLICY = "frame-ancestors 'self'; object-src 'none'; base-uri 'self'";

const helmetOptions = (frameguard: boolean): FastifyHelmetOptions => ({
  frameguard: frameguard && { action: 'sameorigin' },
  contentSecurityPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  crossOriginEmbedderPolicy: false,
  referrerPolicy: { policy: 'same-origin' },
});

/** Pages of the scope: helmet's headers and a content security policy (the console's and demos' by default). */
export async function pageHeaders(scope: FastifyInstance, policy = PAGE_POLICY) {
  await scope.register(helmet, helmetOptions(true));
  scope.addHook('onRequest', (_request, reply, done) => {
    reply.header('content-security-policy', policy);
    done();
  });
}

/** The sign-in endpoints are framed on purpose (the SDK's silent sign-in); the login form itself refuses framing. */
export const signInHeaders = (scope: FastifyInstance) => scope.register(helmet, helmetOptions(false));

/**
 * The API reference page (Swagger UI, served from the package): scripts, styles and the document from this
 * origin only; Swagger UI sets inline styles and draws its icons as data: images.
 */
export const DOCS_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
  + "connect-src 'self'; form-action 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'self'";
