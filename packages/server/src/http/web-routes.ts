import type { FastifyInstance } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { adminPage } from '../web/admin-page.ts';
import { browserAssets } from '../web/assets.ts';
import { demoPage, DEMO_PAGES } from '../web/demo-pages.ts';
import { apiError, HTML, Html } from './schemas.ts';

const js = { 200: { type: 'string', description: 'JavaScript' } };
const assetSummary = (path: string) => (path === '/sdk/lockstep.js' ? 'The browser SDK (@lockstep/client) as one ES module' : `Script of ${path.replace(/\.js$/, '')}`);
const DEMO_SUMMARIES: Record<(typeof DEMO_PAGES)[number], string> = {
  agent: 'Demo agent app (agent-desktop)', crm: 'Demo CRM page embedding the agent widget', embedded: 'Demo agent widget (crm-embedded), framed by the CRM',
  callback: 'Demo clients\' redirect URI',
};

/** The SDK bundle, the admin console and the demo clients: HTML shells plus in-memory bundles. */
export async function webRoutes(app: FastifyInstance, a: Authority) {
  const assets = await browserAssets();
  for (const [path, body] of assets) {
    if (!a.config.demo && path.startsWith('/demo/')) continue;
    app.get(path, { schema: { tags: [path.startsWith('/demo/') ? 'Demo' : 'Pages'], summary: assetSummary(path), produces: ['text/javascript'], response: js } }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body));
  }
  app.get('/favicon.ico', { schema: { tags: ['Pages'], summary: 'No favicon (204)', response: { 204: { type: 'null', description: 'No content' }, 500: apiError('Internal server error') } } }, async (_request, reply) => reply.code(204).send());
  for (const path of ['/admin', '/admin/', '/admin/callback']) {
    app.get(path, { schema: { tags: ['Pages'], summary: 'The admin console', produces: HTML, response: { 200: Html } } }, async (_request, reply) => reply.type('text/html').send(adminPage(a.issuer())));
  }
  if (!a.config.demo) return;
  for (const name of DEMO_PAGES) {
    // The embedded widget is framed by the demo CRM on another site: its own ancestors, no X-Frame-Options.
    app.get(`/demo/${name}`, { schema: { tags: ['Demo'], summary: DEMO_SUMMARIES[name], produces: HTML, response: { 200: Html } }, helmet: { frameguard: false } }, async (_request, reply) => {
      const issuer = a.issuer();
      reply.header('content-security-policy', `frame-ancestors 'self'${name === 'embedded' ? ` ${a.demoCrmOrigin() ?? ''}` : ''}; object-src 'none'; base-uri 'self'`);
      const config = name === 'crm' ? { issuer, widgetUrl: `${issuer}/demo/embedded` } : { issuer, crmOrigin: a.demoCrmOrigin() };
      return reply.type('text/html').send(demoPage(name, config));
    });
  }
}
