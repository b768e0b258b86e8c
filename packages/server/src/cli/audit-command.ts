import type { Config } from '../config.ts';
import { DEMO_ORG_ID } from '../seed/demo.ts';
import { openStore } from '../server.ts';
import { UsageError } from './usage.ts';

export interface AuditOptions {
  since?: string;
  org?: string;
  user?: string;
  kind?: string;
  limit?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `12h`, `7d` before `now`, or an ISO-8601 time. */
export function parseSince(raw: string, now: number): number {
  const ago = /^(\d{1,6})([smhdw])$/.exec(raw.trim());
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw))) return Date.parse(raw);
  throw new UsageError(`--since must be a duration (90s, 30m, 12h, 7d, 2w) or an ISO-8601 time (2026-01-31 or 2026-01-31T08:00:00Z), got "${raw}"`);
}

function parseLimit(raw: string | undefined): number {
  if (raw == null) return 100;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, got "${raw}"`);
  return Number(raw);
}

/** `lockstep audit`: the org's newest entries since a moment, printed oldest first, one line each. */
export async function printAudit(config: Config, opts: AuditOptions) {
  const now = Date.now();
  const from = parseSince(opts.since ?? '24h', now);
  const limit = parseLimit(opts.limit);
  const store = await openStore(config);
  try {
    const user = opts.user ? await store.findUserByEmail(opts.user) : null;
    if (opts.user && !user) throw new Error(`No user with email ${opts.user}`);
    if (user && opts.org && user.orgId !== opts.org) throw new Error(`${opts.user} is not in organization ${opts.org}`);
    const orgId = opts.org ?? user?.orgId ?? (await onlyOrg(store));
    if (!(await store.getOrg(orgId))) throw new Error(`No organization ${orgId}`);
    const { entries, total } = await store.listAudit(orgId, { from, userId: user?.id, kind: opts.kind, limit });
    const emails = new Map((await store.listUsers(orgId)).map((u) => [u.id, u.email]));
    const who = (id: string | null) => (id ? emails.get(id) ?? id : '-');
    for (const e of [...entries].reverse()) {
      console.log([new Date(e.at).toISOString(), e.kind.padEnd(17), `user ${who(e.userId)}`, `client ${e.clientId ?? '-'}`, JSON.stringify(e.details)].join('  '));
    }
    const span = `since ${new Date(from).toISOString()}`;
    console.log(total > entries.length ? `(the newest ${entries.length} of ${total} entries ${span}; --limit shows more)` : `(${total} ${total === 1 ? 'entry' : 'entries'} ${span})`);
  } finally {
    await store.close();
  }
}

/** Without --org or --user: the demo org when it is the only one; the store cannot list orgs by name. */
async function onlyOrg(store: Awaited<ReturnType<typeof openStore>>): Promise<string> {
  if ((await store.countOrgs()) === 1 && (await store.getOrg(DEMO_ORG_ID))) return DEMO_ORG_ID;
  throw new UsageError('audit needs the organization: --org ORG_ID (printed by `lockstep org create`) or --user EMAIL');
}
