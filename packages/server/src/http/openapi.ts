import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { apiError, bearerAuth, Html, Redirect, SHARED_SCHEMAS } from './schemas.ts';
import { DOCS_POLICY, pageHeaders } from './security-headers.ts';

export const DOCS_PREFIX = '/api/v2/docs';

const TAGS = [
  { name: 'OAuth', description: 'OAuth 2.1 / OIDC protocol endpoints: discovery, keys, tokens, revocation, introspection, global token revocation, UserInfo' },
  { name: 'Sign-in pages', description: 'What a browser opens: the authorization endpoint (login form) and the logout endpoints' },
  { name: 'Tokens', description: "The caller's token, logout, administrative logoff, the idle token timeout" },
  { name: 'Organization', description: 'Organization, its authentication settings (universal logout, activity exclusions) and features (HIPAA)' },
  { name: 'Users', description: 'Users of the organization (admin) and the caller' },
  { name: 'Presence', description: 'Presence definitions, user presence and routing status' },
  { name: 'Interactions', description: 'The interaction feed that exempts a user from the idle timeout' },
  { name: 'Groups', description: 'Groups and their members (admin); group bundles of the idle timeout name them' },
  { name: 'OAuth clients', description: 'Registered OAuth clients (admin)' },
  { name: 'Audits', description: 'The audit log (admin)' },
  { name: 'Notifications', description: 'Notification channels: created over HTTP, consumed over a WebSocket' },
  { name: 'Pages', description: 'The admin console, the browser SDK bundle and other static files' },
  { name: 'Demo', description: 'Demo clients and stand-ins (only with LOCKSTEP_DEMO on)' },
  { name: 'Operations', description: 'Probes and scrapers' },
  { name: 'Docs', description: 'This document and its reference page' },
];

const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http', scheme: 'bearer',
    description: 'An access token from POST /oauth/token. Each answer carries Lockstep-Idle-Expires, the idle deadline after this call; '
      + '`Lockstep-Activity: background` on a request says it is polling, not activity.',
  },
  clientSecretBasic: {
    type: 'http', scheme: 'basic',
    description: 'client_secret_basic: the client id and secret, form-urlencoded, as Basic credentials. '
      + 'client_secret_post (client_id and client_secret in the request body) and public clients (client_id alone) are described on the request bodies.',
  },
} as const;

const file = (description: string) => Type.String({ description });
const OpenApiDocument = Type.Object({ openapi: Type.String(), info: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true, description: 'This document, OpenAPI 3.1' });

/**
 * The reference page's own routes (@fastify/swagger-ui registers them hidden): documented here too, so the
 * document lists every route the server answers.
 */
function docsRouteSchema(url: string): FastifySchema | null {
  const docs = { tags: ['Docs'] } as const;
  switch (url.slice(DOCS_PREFIX.length)) {
    case '':
    case '/':
      return { ...docs, summary: 'The API reference page (Swagger UI)', produces: ['text/html'], response: { 200: Html } };
    case '/json':
      return { ...docs, summary: 'This document (as the reference page loads it)', response: { 200: OpenApiDocument } };
    case '/yaml':
      return { ...docs, summary: 'This document in YAML', produces: ['application/x-yaml'], response: { 200: file('OpenAPI 3.1, YAML') } };
    case '/static/index.html':
      return { ...docs, summary: 'Redirects to the reference page', response: { 302: Redirect('To the reference page'), 500: apiError('Internal server error') } };
    case '/static/swagger-initializer.js':
      return { ...docs, summary: "The reference page's configuration script", produces: ['application/javascript'], response: { 200: file('JavaScript') } };
    case '/static/*':
      return {
        ...docs, summary: "The reference page's assets (Swagger UI, from the package; no CDN)",
        params: Type.Object({ '*': Type.String({ description: 'File name, e.g. swagger-ui-bundle.js' }) }),
        produces: ['application/javascript', 'text/css', 'image/png'], response: { 200: file('The file'), 404: apiError('No such file') },
      };
    default:
      return null;
  }
}

/** cors.ts declares its preflight before this plugin sees routes: described here instead. */
const PREFLIGHT = {
  tags: ['OAuth'],
  summary: 'CORS preflight (any path)',
  description: "Answered 204 for a browser origin some client allows (its redirect URIs' origins and allowedOrigins) on discovery, "
    + 'keys, the token endpoints, the API and the SDK file; anything else is 404.',
  parameters: [{ name: '*', in: 'path', required: true, schema: { type: 'string' }, description: 'Any path' }],
  responses: {
    204: { description: 'CORS preflight answer (Access-Control-Allow-* headers)' },
    404: { description: 'Not a CORS request of an allowed origin', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } },
  },
};

const swaggerOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Lockstep',
      version: '0.1.0',
      description: 'Session authority: OAuth 2.1 / OIDC with idle token timeout and universal logout, and the Genesys Cloud-shaped API around it. '
        + 'Every 401 has a stable code in its body and in WWW-Authenticate; switch on the code, never on the message.',
    },
    tags: TAGS,
    components: { securitySchemes: SECURITY_SCHEMES as never },
  },
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  transform({ schema, url, route }) {
    if (url === DOCS_PREFIX || url.startsWith(DOCS_PREFIX + '/')) return { schema: (docsRouteSchema(url) ?? schema) as never, url };
    // @fastify/websocket hides its routes; the channel socket is part of the API.
    if (route.websocket) return { schema: { ...schema, hide: false } as never, url };
    // The API's token guard covers every /api/v2 route: its operations need no security line each.
    if (url.startsWith('/api/v2/') && !schema?.security) return { schema: { ...schema, security: bearerAuth } as never, url };
    return { schema, url };
  },
  transformObject(documentObject) {
    const document = (documentObject as { openapiObject: { paths: Record<string, object> } }).openapiObject;
    document.paths['/{*}'] = { options: PREFLIGHT };
    // Fastify answers the reference page with and without the trailing slash; the hook sees one of them.
    document.paths[DOCS_PREFIX] ??= document.paths[DOCS_PREFIX + '/']!;
    document.paths[DOCS_PREFIX + '/'] ??= document.paths[DOCS_PREFIX]!;
    return document as never;
  },
};

/**
 * The OpenAPI 3.1 document, generated from the route schemas (registered before the routes, so it sees them all),
 * at /api/v2/docs/openapi.json, and its reference page at /api/v2/docs (assets served from the package).
 */
export async function openApi(app: FastifyInstance, a: Authority): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, swaggerOptions);
  await app.register(async function docs(scope) {
    await pageHeaders(scope, DOCS_POLICY);
    await scope.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      theme: { title: 'Lockstep API reference' },
      // No top bar: it would offer to explore other URLs and name the /json alias rather than openapi.json.
      uiConfig: { layout: 'BaseLayout', docExpansion: 'list', defaultModelsExpandDepth: 0, tryItOutEnabled: false },
      validatorUrl: false,
    });
    scope.get(`${DOCS_PREFIX}/openapi.json`,
      { schema: { tags: ['Docs'], summary: 'This document: OpenAPI 3.1, generated from the route schemas', response: { 200: OpenApiDocument } } },
      async () => ({ ...app.swagger(), servers: [{ url: a.issuer() }] }));
  });
}
