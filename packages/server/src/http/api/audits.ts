import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { apiErrors, Iso, iso, Paged, pageOf, pageParams, pageQueryFields } from '../schemas.ts';

const AuditQuery = Type.Object({
  ...pageQueryFields,
  userId: Type.Optional(Type.String({ maxLength: 128 })),
  kind: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
});

const AuditView = Type.Object({
  id: Type.Integer(), at: Iso, kind: Type.String(), userId: Type.Union([Type.String(), Type.Null()]),
  clientId: Type.Union([Type.String(), Type.Null()]), details: Type.Record(Type.String(), Type.Unknown()),
});

export function auditRoutes(admin: FastifyInstance, a: Authority) {
  admin.get<{ Querystring: Static<typeof AuditQuery> }>('/api/v2/audits',
    { schema: { tags: ['Audits'], summary: 'List audit entries (filter by user, kind, time)', querystring: AuditQuery, response: { 200: Paged(AuditView), ...apiErrors } } },
    async function listAudits(request) {
      const q = request.query;
      const { pageSize, offset } = pageParams(q);
      const { entries, total } = await a.store.listAudit(request.auth.orgId, {
        userId: q.userId, kind: q.kind, limit: pageSize, offset,
        from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined,
      });
      return pageOf(entries.map((e) => ({ ...e, at: iso(e.at) })), total, q);
    });
}
