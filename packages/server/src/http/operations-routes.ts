import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../authority/authority.ts';
import { TokenRefused } from '../core/errors.ts';
import { safeEqual, sha256 } from '../core/secrets.ts';
import { apiError } from './schemas.ts';
import { bearerToken } from './auth-guard.ts';
import { withTimeout } from '../core/timeout.ts';

/** A readiness probe answers within this, whatever the store does. */
const STORE_CHECK_TIMEOUT_MS = 2000;
const tags = ['Operations'];

const oneOf = <T extends string>(values: readonly T[], description?: string) => Type.Unsafe<T>({ type: 'string', enum: values, description });
const Check = (description: string) => Type.Object({
  status: oneOf(['ok', 'failed', 'unknown'] as const, 'unknown: not checked, another check failed first'),
  message: Type.String(),
}, { description });
const readiness = (description: string) => Type.Object({
  status: oneOf(['ready', 'not_ready'] as const),
  failed: Type.Array(oneOf(['store', 'migrations', 'bus', 'lease'] as const), { description: 'The checks that failed' }),
  checks: Type.Object({
    store: Check('A cheap query answered within 2 s'),
    migrations: Check('Every migration this version has is applied'),
    bus: Check('The bus between nodes is connected (the in-process bus always is)'),
    lease: Type.Optional(Check('In a cluster only: this node holds its lease, so it may serve authenticated calls')),
  }),
}, { description });

type CheckResult = { status: 'ok' | 'failed' | 'unknown'; message: string };
const ok = (message: string): CheckResult => ({ status: 'ok', message });
const failed = (message: string): CheckResult => ({ status: 'failed', message });

/** What an operator's probes and scrapers call: liveness, readiness, metrics. Outside the API's token guard. */
export async function operationsRoutes(app: FastifyInstance, a: Authority): Promise<void> {
  const metricsDigest = a.config.metricsToken && sha256(a.config.metricsToken);
  app.get('/healthz', {
    schema: { tags, summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is alive' }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: {
      tags, summary: 'Readiness: the store answers with every migration applied, the bus is connected and, in a cluster, this node holds its lease',
      response: { 200: readiness('Ready: every check passed'), 503: readiness('Not ready: `failed` names the checks that did not pass') },
    },
  }, async (_request, reply) => {
    const result = await checkReadiness(a);
    return reply.code(result.status === 'ready' ? 200 : 503).header('cache-control', 'no-store').send(result);
  });

  app.get('/metrics', {
    schema: {
      tags, summary: 'Prometheus metrics (text format); needs `Authorization: Bearer <LOCKSTEP_METRICS_TOKEN>` when that is set',
      response: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: Type.String() } } },
        401: apiError('LOCKSTEP_METRICS_TOKEN is set and the request does not carry it as a bearer token'),
      },
    },
  }, async (request, reply) => {
    if (metricsDigest) requireMetricsToken(request, metricsDigest);
    const text = await a.metrics.exposition();
    return reply.type(a.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}

function requireMetricsToken(request: FastifyRequest, expectedDigest: string): void {
  const token = bearerToken(request);
  if (!token) throw TokenRefused('token.missing', 'GET /metrics needs Authorization: Bearer <LOCKSTEP_METRICS_TOKEN>');
  // Digests of equal length, compared in constant time: neither the token nor its length leaks through timing.
  if (!safeEqual(sha256(token), expectedDigest)) throw TokenRefused('token.unknown', 'The bearer token is not the metrics token (LOCKSTEP_METRICS_TOKEN)');
}

/** Each check once; a store that hangs counts as failed after STORE_CHECK_TIMEOUT_MS. */
async function checkReadiness(a: Authority) {
  const { store, migrations } = await checkStore(a);
  const bus = a.bus.connected ? ok('connected') : failed('The bus is not connected: events of other nodes may be missed');
  const lease = !a.config.databaseUrl ? null
    : a.membership.held() ? ok('held') : failed('This node does not hold its cluster lease: it refuses authenticated calls until it renews');
  const checks = { store, migrations, bus, ...(lease ? { lease } : {}) };
  const failedChecks = Object.entries(checks).filter(([, check]) => check.status === 'failed').map(([name]) => name);
  return { status: failedChecks.length ? 'not_ready' : 'ready', failed: failedChecks, checks };
}

async function checkStore(a: Authority): Promise<{ store: CheckResult; migrations: CheckResult }> {
  const unanswered = { store: failed('The store did not answer'), migrations: { status: 'unknown', message: 'Not checked: the store did not answer' } } as const;
  try {
    const pending = await withTimeout(a.store.pendingMigrations(), STORE_CHECK_TIMEOUT_MS);
    if (pending === undefined) {
      a.log.warn(`readiness: the store did not answer within ${STORE_CHECK_TIMEOUT_MS} ms`);
      return unanswered;
    }
    return {
      store: ok('answered'),
      migrations: pending ? failed(`${pending} migration(s) not applied: restart the server to apply them`) : ok('all applied'),
    };
  } catch (err) {
    // The reason goes to the operator's log, not to an unauthenticated caller.
    a.log.warn({ err }, 'readiness: the store did not answer');
    return unanswered;
  }
}
