import type { OrgSettings } from '../core/records.ts';
import type { Authority } from './authority.ts';
import { writeAudit } from './audit.ts';

/** Applies an org settings change: save, audit with before and after, re-time every token of the org at once. */
export async function changeSettings(a: Authority, orgId: string, actor: { userId: string | null; clientId: string }, next: OrgSettings, setting: string) {
  const before = await a.settings.get(orgId);
  await a.settings.save(orgId, next);
  await writeAudit(a.store, a.clock.now(), { orgId, kind: 'settings_changed', userId: actor.userId, clientId: actor.clientId, details: { setting, before, after: next } });
  await a.ledger.retimeOrg(orgId);
}
