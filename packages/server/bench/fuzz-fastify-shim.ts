// Stands in for the `fastify` module inside src/http/server.ts only (see fuzz-routes.ts): the same
// factory, plus an onRoute hook on the root instance that records every route's options, schemas
// included, for the fuzzer. Fastify has no public API to list routes with their schemas afterwards.
import Fastify from 'fastify';
import type { RouteOptions } from 'fastify';

// Every named export fastify's CommonJS entry has (node -e "import('fastify').then(m => console.log(Object.keys(m)))").
export { LogController, errorCodes } from 'fastify';

const g = globalThis as { __lockstepFuzzRoutes?: RouteOptions[] };
const recorded = (g.__lockstepFuzzRoutes ??= []);

const recordingFastify = ((opts?: Parameters<typeof Fastify>[0]) => {
  const app = Fastify(opts as never);
  app.addHook('onRoute', (route) => void recorded.push(route as unknown as RouteOptions));
  return app;
}) as unknown as typeof Fastify;

export { recordingFastify as fastify };
export default recordingFastify;
