import type { Store } from '../store/store.ts';

export type AuditKind =
  | 'logout'
  | 'universal_logout'
  | 'idle_timeout'
  | 'admin_logoff'
  | 'global_revocation'
  | 'revocation'
  | 'refresh_reuse'
  | 'login'
  | 'login_failed'
  | 'settings_changed';

export interface AuditRecord {
  orgId: string;
  kind: AuditKind;
  userId?: string | null;
  clientId?: string | null;
  details?: Record<string, unknown>;
}

export function writeAudit(store: Store, at: number, r: AuditRecord): Promise<void> {
  return store.appendAudit({ orgId: r.orgId, at, kind: r.kind, userId: r.userId ?? null, clientId: r.clientId ?? null, details: r.details ?? {} });
}
