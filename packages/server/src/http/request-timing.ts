import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import type { Metrics } from '../authority/metrics.ts';

/**
 * Times every route registered from here on: each gets an onResponse hook of its own holding its pattern's
 * recorder, so a request costs no route lookup and no label hashing (the hot path is measured against a bare
 * route). Requests that match no route are timed by the not-found handler (`installErrorHandlers`).
 */
export function timeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRoute', (route) => {
    const record = metrics.requestRecorder(route.url);
    const timed: onResponseHookHandler = (request, reply, done) => {
      record(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse ? [...[route.onResponse].flat(), timed] : [timed];
  });
}
