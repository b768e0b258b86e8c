import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { apiErrors, Iso, iso } from '../schemas.ts';

const AuditQuery = Type.Object({
  userId: Type.Optional(Type.String({ maxLength: 128 })),
  kind: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const AuditView = Type.Object({
  id: Type.Integer(), at: Iso, kind: Type.String(), userId: Type.Union([Type.String(), Type.Null()]),
  clientId: Type.Union([Type.String(), Type.Null()]), details: Type.Record(Type.String(), Type.Unknown()),
});

export function auditRoutes(admin: FastifyInstance, a: Authority) {
  admin.get<{ Querystring: Static<typeof AuditQuery> }>('/api/v2/audits',
    { schema: { querystring: AuditQuery, response: { 200: Type.Object({ entities: Type.Array(AuditView) }), ...apiErrors } } },
    async function listAudits(request) {
      const q = request.query;
      const entries = await a.store.listAudit(request.auth.orgId, {
        userId: q.userId, kind: q.kind, limit: q.limit,
        from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined,
      });
      return { entities: entries.map((e) => ({ ...e, at: iso(e.at) })) };
    });
}
