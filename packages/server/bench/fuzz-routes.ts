// The fuzzer's view of the route table: methods and URLs from Fastify's printRoutes(), schemas from an
// onRoute hook. Fastify keeps route schemas private once registered and src/http/server.ts offers no
// hook, so installRouteRecorder() registers a module resolve hook that hands src/http/server.ts (only it)
// fuzz-fastify-shim.ts for `fastify`: the real factory plus an onRoute hook. Call it before anything
// imports src/server.ts (so: import the server dynamically afterwards).
import { register } from 'node:module';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

const HOOKS = `
let shim;
export function initialize(data) { shim = data.shim; }
export async function resolve(specifier, context, next) {
  if (specifier === 'fastify' && context.parentURL && new URL(context.parentURL).pathname.endsWith('/src/http/server.ts')) {
    return next(shim, context);
  }
  return next(specifier, context);
}`;

export function installRouteRecorder(): void {
  register('data:text/javascript,' + encodeURIComponent(HOOKS), {
    data: { shim: new URL('./fuzz-fastify-shim.ts', import.meta.url).href },
  });
}

export interface FuzzRoute {
  method: string;
  url: string;
  schema: FastifySchema | null;
  websocket: boolean;
}

/** "METHOD url" pairs of printRoutes({ commonPrefix: false }): each line is a node, its key relative to its parent's. */
export function printedRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│   |    )*)(?:├── |└── )(\S*) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = url;
    for (const method of m[3]!.split(',').map((s) => s.trim()).filter(Boolean)) out.push({ method, url });
  }
  return out;
}

/** Every route of `app` with the schema it was registered with (a HEAD route Fastify derived from a GET gets the GET's). */
export function routeTable(app: FastifyInstance): { routes: FuzzRoute[]; recorded: number } {
  const recorded = (globalThis as { __lockstepFuzzRoutes?: RouteOptions[] }).__lockstepFuzzRoutes ?? [];
  const byKey = new Map<string, RouteOptions>();
  for (const r of recorded) {
    for (const method of [r.method].flat()) byKey.set(`${method} ${r.url}`, r);
  }
  const seen = new Set<string>();
  const routes: FuzzRoute[] = [];
  for (const { method, url } of printedRoutes(app)) {
    const key = `${method} ${url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const options = byKey.get(key) ?? (method === 'HEAD' ? byKey.get(`GET ${url}`) : undefined);
    routes.push({ method, url, schema: (options?.schema as FastifySchema | undefined) ?? null, websocket: !!(options as { websocket?: boolean } | undefined)?.websocket });
  }
  routes.sort((a, b) => (a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url)));
  return { routes, recorded: recorded.length };
}
