import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { pageHeaders, signInHeaders } from './security-headers.ts';
import { validators } from './validators.ts';
import { newId } from '../core/ids.ts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { auditRoutes } from './api/audits.ts';
import { clientRoutes } from './api/clients.ts';
import { groupRoutes } from './api/groups.ts';
import { idleSettingsRoutes } from './api/idle-settings.ts';
import { meRoutes } from './api/me.ts';
import { interactionRoutes } from './api/interactions.ts';
import { channelSocketFailed, channelSocketRoute, notificationRoutes } from './api/notifications.ts';
import { orgSettingsRoutes } from './api/org-settings.ts';
import { presenceRoutes } from './api/presence.ts';
import { tokenApiRoutes } from './api/tokens.ts';
import { userTokenRoutes } from './api/user-tokens.ts';
import { userRoutes } from './api/users.ts';
import { authenticate, refuseIfRevokedMeanwhile, requireRole } from './auth-guard.ts';
import { demoRoutes } from './demo-routes.ts';
import { webRoutes } from './web-routes.ts';
import { answerFrameworkError, installErrorHandlers } from './error-handler.ts';
import { answerClientError } from './client-errors.ts';
import { openApi } from './openapi.ts';
import { operationsRoutes } from './operations-routes.ts';
import { timeRequests } from './request-timing.ts';
import { registerCors } from './cors.ts';
import { authorizeRoutes } from './oauth/authorize.ts';
import { userInfoRoutes } from './oauth/userinfo.ts';
import { endSessionRoutes } from './oauth/end-session.ts';
import { globalTokenRevocationRoutes } from './oauth/global-token-revocation.ts';
import { introspectionRoutes } from './oauth/introspection.ts';
import { metadataRoutes } from './oauth/metadata.ts';
import { revocationRoutes } from './oauth/revocation.ts';
import { tokenRoutes } from './oauth/token.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * A JSON content type with an empty body is no body (the Genesys SDK sends `Content-Type: application/json` on
 * every call, DELETE included); a route that needs a body still says so through its schema.
 */
function acceptEmptyJson(app: FastifyInstance) {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, body as string, done));
}

/**
 * A WebSocket upgrade request answered over HTTP (any route but a live channel, or a refused one) leaves
 * a socket nobody owns after the answer: close it, or each such request holds a file descriptor forever.
 */
function closeRefusedUpgrades(app: FastifyInstance) {
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.headers.upgrade !== undefined) request.raw.socket?.destroy();
    done();
  });
}

/**
 * Response serializers compiled on a route's first answer with that status, not at start: compiling every
 * route's (fast-json-stringify) is most of the startup time. The schemas stay the allow-list they are.
 */
function lazySerializers(externalSchemas: unknown, options: unknown) {
  const compile = SerializerSelector()(externalSchemas as never, options as never);
  return (route: Parameters<typeof compile>[0]) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => (serialize ??= compile(route) as (data: unknown) => string)(data);
  };
}

/** Builds the HTTP edge without listening, so tests can also use inject(). */
export async function buildHttp(a: Authority, tls: { cert: Buffer; key: Buffer } | null = null): Promise<FastifyInstance> {
  const app = Fastify({
    ...(tls ? { https: tls } : {}),
    loggerInstance: a.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    clientErrorHandler: answerClientError,
    logController: new LogController({ disableRequestLogging: a.log.level !== 'debug' && a.log.level !== 'trace' }),
    // No child logger per request (a measurable share of the hot path); errors carry reqId explicitly.
    childLoggerFactory: (logger) => logger,
    // X-Forwarded-For counts only when the socket peer is a configured proxy (LOCKSTEP_TRUST_PROXY): request.ip is what the login throttle counts.
    trustProxy: a.config.trustProxy.length ? a.config.trustProxy : false,
    // The contextId of every error answer and the reqId of its log line: unique across restarts and nodes.
    genReqId: () => newId(),
    frameworkErrors: answerFrameworkError,
    schemaController: { compilersFactory: { buildValidator: validators as never, buildSerializer: lazySerializers as never } },
  });
  installErrorHandlers(app, a.metrics.requestRecorder());
  timeRequests(app, a.metrics);
  closeRefusedUpgrades(app);
  acceptEmptyJson(app);
  registerCors(app, a);
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });

  await openApi(app, a);
  await operationsRoutes(app, a);
  metadataRoutes(app, a);
  // Cookies only where the browser's sign-in session is read or written; hooks of plugins cost every request in their scope.
  await app.register(async function signInPages(pages) {
    await pages.register(cookie);
    await signInHeaders(pages);
    authorizeRoutes(pages, a);
    endSessionRoutes(pages, a);
  });
  tokenRoutes(app, a);
  revocationRoutes(app, a);
  introspectionRoutes(app, a);
  globalTokenRevocationRoutes(app, a);
  await app.register(async function channelSockets(sockets) {
    await sockets.register(websocket, {
      options: { maxPayload: 4096 },
      errorHandler: (error, socket, request) => channelSocketFailed(error, socket, request.log, request.id),
    });
    channelSocketRoute(sockets, a.hub);
  });
  await app.register(async function webPages(pages) {
    await pageHeaders(pages);
    await webRoutes(pages, a);
  });
  if (a.config.demo) demoRoutes(app, a);

  await app.register(async function api(api) {
    api.addHook('onRequest', authenticate(a));
    api.addHook('onSend', refuseIfRevokedMeanwhile);
    tokenApiRoutes(api, a);
    userInfoRoutes(api, a);
    meRoutes(api, a);
    idleSettingsRoutes(api, a);
    presenceRoutes(api, a);
    interactionRoutes(api, a);
    orgSettingsRoutes(api, a);
    notificationRoutes(api, a, a.hub);
    await api.register(async function admin(admin) {
      admin.addHook('preHandler', requireRole(a, 'admin'));
      userRoutes(admin, a);
      userTokenRoutes(admin, a);
      groupRoutes(admin, a);
      clientRoutes(admin, a);
      auditRoutes(admin, a);
    });
  });
  return app as unknown as FastifyInstance;
}
