/**
 * The OpenAPI 3.1 document at /api/v2/docs/openapi.json, over real HTTP from a real server: valid by an OpenAPI
 * validator, every route Fastify registered in it with a response schema, the shared error body, the security
 * schemes and the main examples; and the reference page at /api/v2/docs rendering in Chromium.
 */
import { formatParamUrl } from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ARTIFACTS, chromiumOrSkip, launchChromium } from './helpers/chromium.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const chromium = chromiumOrSkip();
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Media { schema?: Record<string, unknown>; example?: unknown; examples?: Record<string, unknown> }
interface Response { description: string; content?: Record<string, Media> }
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, Media>; description?: string };
  parameters?: { name: string; in: string; example?: unknown }[];
  description?: string;
  responses: Record<string, Response>;
}
interface Document {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  tags: { name: string }[];
  components: { schemas: Record<string, { properties?: Record<string, unknown> }>; securitySchemes: Record<string, { type: string; scheme?: string }> };
}

/**
 * "METHOD url" pairs of Fastify's route tree (printRoutes): each line is a node whose key continues its parent's;
 * a node without methods is only a shared prefix.
 */
function registeredRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + (m[2] === '(empty root node)' ? '' : m[2]!);
    stack[depth] = url;
    // The catch-all sits beside the root's `/` node: its URL is `/*`.
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.push({ method, url: url.startsWith('/') ? url : '/' + url });
  }
  return out;
}

/** OpenAPI's spelling of a Fastify URL: `:id` → `{id}`, `*` → `{*}`. */
const openApiPath = (url: string) => formatParamUrl(url);

const operations = (doc: Document) => Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.flatMap((method) => (item[method] ? [{ path, method, op: item[method]! }] : [])));

const schemaOf = (r: Response | undefined) => Object.values(r?.content ?? {}).find((m) => m.schema)?.schema;
const exampleOf = (m: Media | undefined) => m?.example ?? Object.values(m?.examples ?? {})[0];

describe('OpenAPI document (real server, real HTTP)', () => {
  let server: TestServer;
  let doc: Document;

  before(async () => {
    server = await startTestServer();
    const response = await fetch(server.url + '/api/v2/docs/openapi.json');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await response.json()) as Document;
  });
  after(() => server?.stop());

  test('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, `validator errors: ${JSON.stringify(result.errors, null, 2)?.slice(0, 4000)}`);
  });

  test('every route Fastify registered is in the document, with its method', () => {
    const routes = registeredRoutes(server.http);
    assert.ok(routes.length > 60, `only ${routes.length} routes parsed from printRoutes`);
    for (const route of routes) assert.ok(server.http.hasRoute(route as never), `parsed a route Fastify does not have: ${route.method} ${route.url}`);
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    // Fastify's automatic HEAD of a GET route is not an operation of its own.
    const expected = routes.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
    const missing = expected.filter((r) => !doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase() as 'get']);
    assert.deepEqual(missing, [], 'routes missing from the document');
    // The explicit HEAD routes (the SDK's liveness checks) are documented though a GET shares their path.
    assert.ok(doc.paths['/api/v2/tokens/me']?.head, 'HEAD /api/v2/tokens/me');
    assert.ok(doc.paths['/api/v2/notifications/channels/{id}']?.head, 'HEAD /api/v2/notifications/channels/{id}');
    assert.ok(doc.paths['/notifications/channels/{id}']?.get, 'the channel WebSocket');
  });

  test('every operation has a summary, declared tags and at least one response status with a schema', () => {
    const declared = new Set(doc.tags.map((t) => t.name));
    const problems: string[] = [];
    for (const { path, method, op } of operations(doc)) {
      const name = `${method.toUpperCase()} ${path}`;
      if (!op.summary) problems.push(`${name}: no summary`);
      if (!op.tags?.length || op.tags.some((t) => !declared.has(t))) problems.push(`${name}: tags ${op.tags}`);
      const statuses = Object.keys(op.responses);
      if (!statuses.length) problems.push(`${name}: no response status`);
      if (!statuses.some((s) => schemaOf(op.responses[s]))) problems.push(`${name}: no response with a schema`);
    }
    assert.deepEqual(problems, []);
  });

  test('error answers name one shared error body; OAuth endpoints theirs', () => {
    const errorBody = doc.components.schemas.ErrorBody;
    assert.deepEqual(Object.keys(errorBody?.properties ?? {}).sort(),
      ['code', 'contextId', 'details', 'errors', 'message', 'messageParams', 'messageWithParams', 'reason', 'status']);
    assert.deepEqual(Object.keys(doc.components.schemas.OAuthError?.properties ?? {}).sort(), ['error', 'error_description']);

    const users = doc.paths['/api/v2/users']!.get!;
    for (const status of ['400', '401', '403', '404', '429', '500', '503']) {
      assert.deepEqual(schemaOf(users.responses[status]), { $ref: '#/components/schemas/ErrorBody' }, `GET /api/v2/users ${status}`);
    }
    const token = doc.paths['/oauth/token']!.post!;
    assert.deepEqual(schemaOf(token.responses['400']), { $ref: '#/components/schemas/OAuthError' });
    assert.deepEqual(schemaOf(token.responses['401']), { $ref: '#/components/schemas/OAuthError' });
    // Every JSON error answer anywhere refers to one of the two components.
    // (Operations' probes answer their own bodies: a failed readiness check is a report, not an error.)
    const inline = operations(doc).filter(({ op }) => !op.tags?.includes('Operations')).flatMap(({ path, method, op }) => Object.entries(op.responses)
      .filter(([status, r]) => Number(status) >= 400 && r.content?.['application/json'])
      .filter(([, r]) => !/^#\/components\/schemas\/(ErrorBody|OAuthError)$/.test(String(r.content!['application/json']!.schema?.$ref)))
      .map(([status]) => `${method.toUpperCase()} ${path} ${status}`));
    assert.deepEqual(inline, []);
  });

  test('security schemes: bearer for the API, client secret basic for the OAuth endpoints, client_secret_post on their bodies', () => {
    assert.deepEqual(doc.components.securitySchemes.bearerAuth && { ...doc.components.securitySchemes.bearerAuth, description: undefined },
      { type: 'http', scheme: 'bearer', description: undefined });
    assert.equal(doc.components.securitySchemes.clientSecretBasic?.type, 'http');
    assert.equal(doc.components.securitySchemes.clientSecretBasic?.scheme, 'basic');
    assert.deepEqual(doc.paths['/api/v2/users']!.get!.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.paths['/api/v2/tokens/me']!.delete!.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.paths['/oauth/userinfo']!.get!.security, [{ bearerAuth: [] }]);
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      const op = doc.paths[path]!.post!;
      assert.ok(op.security?.some((s) => 'clientSecretBasic' in s), `${path} security`);
      const form = op.requestBody!.content['application/x-www-form-urlencoded'];
      assert.ok(form?.schema, `${path} takes a form body`);
      assert.match(op.requestBody!.description ?? '', /client_secret_post/, `${path} body describes client_secret_post`);
      const fields = (form.schema as { properties: Record<string, { description?: string }> }).properties;
      assert.match(fields.client_secret?.description ?? '', /client_secret_post/);
    }
    // The docs themselves are public.
    assert.equal(doc.paths['/api/v2/docs/openapi.json']!.get!.security, undefined);
  });

  test('examples for the main calls: token request and response, logout, org settings, idle settings', () => {
    const token = doc.paths['/oauth/token']!.post!;
    const grants = Object.values(token.requestBody!.content['application/json']!.examples ?? {}).map((e) => (e as { value: { grant_type: string } }).value.grant_type);
    assert.deepEqual(grants, ['authorization_code', 'client_credentials', 'refresh_token']);
    assert.equal((exampleOf(token.responses['200']!.content!['application/json']) as { token_type: string }).token_type, 'Bearer');

    assert.match(doc.paths['/api/v2/tokens/me']!.delete!.description ?? '', /token\.revoked/);
    const hint = doc.paths['/oauth/logout']!.get!.parameters!.find((p) => p.name === 'post_logout_redirect_uri');
    assert.ok(hint?.example, 'logout query example');
    assert.deepEqual(exampleOf(doc.paths['/oauth/global-token-revocation']!.post!.requestBody!.content['application/json']),
      { sub_id: { format: 'email', email: 'agent@demo.test' } });

    const settings = doc.paths['/api/v2/organizations/authentication/settings']!;
    assert.equal(typeof (exampleOf(settings.get!.responses['200']!.content!['application/json']) as { universalLogout: boolean }).universalLogout, 'boolean');
    assert.ok(exampleOf(settings.patch!.requestBody!.content['application/json']));
    const idle = doc.paths['/api/v2/tokens/timeout']!;
    assert.equal((exampleOf(idle.get!.responses['200']!.content!['application/json']) as { idleTokenTimeoutSeconds: number }).idleTokenTimeoutSeconds, 1800);
    assert.ok(exampleOf(idle.put!.requestBody!.content['application/json']));
  });

  test('the reference page is served from this origin, with its own content security policy', async () => {
    const page = await fetch(server.url + '/api/v2/docs');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(html, /https?:\/\//, 'no asset from another origin (CDN)');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'self'/);
    const bundle = await fetch(server.url + '/api/v2/docs/static/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
  });
});

describe('API reference page (Chromium)', { skip: chromium.skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  test('renders the operations of the document, without CSP violations', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(server.url + '/api/v2/docs');
      const logout = page.locator('.opblock-delete [data-path="/api/v2/tokens/me"]');
      await logout.waitFor({ state: 'visible', timeout: 20_000 });

      await page.locator('.opblock-tag[data-tag="OAuth"]').waitFor({ state: 'visible' });
      assert.match(await page.locator('.info .title').innerText(), /Lockstep/);
      assert.ok(await page.locator('.opblock-post [data-path="/oauth/token"]').isVisible(), 'POST /oauth/token shown');
      assert.ok(await page.getByText('Log out: this client, or every client of the user with universal logout on').isVisible());
      assert.ok(await page.locator('.opblock').count() > 60, 'every operation listed');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'openapi-reference.png') });
      assert.deepEqual(problems, [], 'console errors (a CSP violation shows here)');
    } finally {
      await browser.close();
    }
  });
});
