import type { FastifyInstance } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { adminPage } from '../web/admin-page.ts';
import { browserAssets } from '../web/assets.ts';
import { demoPage, DEMO_PAGES } from '../web/demo-pages.ts';
import { Html } from './schemas.ts';

const js = { 200: { type: 'string' } };

/** The SDK bundle, the admin console and the demo clients: HTML shells plus in-memory bundles. */
export async function webRoutes(app: FastifyInstance, a: Authority) {
  const assets = await browserAssets();
  for (const [path, body] of assets) {
    if (!a.config.demo && path.startsWith('/demo/')) continue;
    app.get(path, { schema: { response: js } }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body));
  }
  app.get('/favicon.ico', { schema: { response: { 204: { type: 'null' } } } }, async (_request, reply) => reply.code(204).send());
  for (const path of ['/admin', '/admin/', '/admin/callback']) {
    app.get(path, { schema: { response: { 200: Html } } }, async (_request, reply) => reply.type('text/html').send(adminPage(a.issuer())));
  }
  if (!a.config.demo) return;
  for (const name of DEMO_PAGES) {
    // The embedded widget is framed by the demo CRM on another site: its own ancestors, no X-Frame-Options.
    app.get(`/demo/${name}`, { schema: { response: { 200: Html } }, helmet: { frameguard: false } }, async (_request, reply) => {
      const issuer = a.issuer();
      reply.header('content-security-policy', `frame-ancestors 'self'${name === 'embedded' ? ` ${a.demoCrmOrigin() ?? ''}` : ''}; object-src 'none'; base-uri 'self'`);
      const config = name === 'crm' ? { issuer, widgetUrl: `${issuer}/demo/embedded` } : { issuer, crmOrigin: a.demoCrmOrigin() };
      return reply.type('text/html').send(demoPage(name, config));
    });
  }
}
