import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { browserAssets } from './assets.ts';
import { demoPage } from './demo-pages.ts';

/**
 * The demo CRM as it is in a real deployment: a page on another *site* than Lockstep (localhost
 * against 127.0.0.1), embedding the agent widget in an iframe. No Lockstep route is served here.
 */
export async function buildCrmHost(a: Authority): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: a.log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  const bundle = (await browserAssets()).get('/demo/crm.js')!;
  const html = { response: { 200: { type: 'string' } } };
  app.get('/', { schema: html }, async (_request, reply) => {
    const issuer = a.issuer();
    return reply.type('text/html').header('cache-control', 'no-store').send(demoPage('crm', { issuer, widgetUrl: `${issuer}/demo/embedded` }));
  });
  app.get('/demo/crm.js', { schema: html }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(bundle));
  app.get('/favicon.ico', { schema: { response: { 204: { type: 'null' } } } }, async (_request, reply) => reply.code(204).send());
  return app as unknown as FastifyInstance;
}

/** Another site than the issuer's: browsers tell `localhost` and `127.0.0.1` apart as sites. */
export function crmHostName(issuer: string): string {
  return new URL(issuer).hostname === 'localhost' ? '127.0.0.1' : 'localhost';
}
