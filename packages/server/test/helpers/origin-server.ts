import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Page {
  type: string;
  body: string;
}

export interface OriginServer {
  /** e.g. `https://app.lockstep.test:41234` — the host name given, the port chosen by the system. */
  origin: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };
export const html = (body: string): Page => ({ type: TYPES.html!, body });
export const js = (body: string): Page => ({ type: TYPES.js!, body });

/**
 * A web site of its own for browser tests: static pages on another origin than Lockstep (a client
 * app, a CRM host page). `pages` maps a path (query ignored) to a page, or is a function asked per request.
 * Listens on 127.0.0.1; `hostName` is what the origin is called (a name Chromium maps to 127.0.0.1).
 */
export async function startOriginServer(opts: {
  hostName?: string;
  tls?: { cert: string; key: string };
  pages: Record<string, Page> | ((path: string, request: IncomingMessage) => Page | null);
}): Promise<OriginServer> {
  const lookup = typeof opts.pages === 'function' ? opts.pages : (path: string) => (opts.pages as Record<string, Page>)[path] ?? null;
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?', 1)[0]!;
    const page = lookup(path, request);
    if (!page) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no page ${path}`);
      return;
    }
    response.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' }).end(page.body);
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = opts.tls ? 'https' : 'http';
  return {
    origin: `${scheme}://${opts.hostName ?? '127.0.0.1'}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
