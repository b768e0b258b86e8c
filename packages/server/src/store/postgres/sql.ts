import type pg from 'pg';
import type { RevokeSelection } from '../../core/records.ts';
import { StoreConflictError } from '../store.ts';
import type { Columns } from './rows.ts';

/** SQL building blocks of the PostgreSQL store. Table and column names are ours, never input; every value is a parameter. */

/** The pool, or the one pooled connection a transaction runs on. */
export type Db = pg.Pool | pg.PoolClient;

/** A condition whose parameters are numbered from $1. */
export type Clause = { where: string; params: unknown[] };

/** Which still-live rows of each table a selection names (see RevokeSelection). */
export function revokeScope(s: RevokeSelection): { access: Clause; refresh?: Clause; sessions?: Clause } {
  const clause = (where: string, ...params: unknown[]): Clause => ({ where, params });
  if ('accessTokenId' in s) return { access: clause('id = $1', s.accessTokenId) };
  if ('grantId' in s) return { access: clause('grant_id = $1', s.grantId), refresh: clause('grant_id = $1', s.grantId) };
  if ('signInSessionId' in s) {
    const ofClient = clause('session_id = $1 AND client_id = $2', s.signInSessionId, s.clientId);
    return { access: ofClient, refresh: ofClient, sessions: clause('id = $1', s.signInSessionId) };
  }
  if ('clientId' in s) return { access: clause('client_id = $1', s.clientId), refresh: clause('client_id = $1', s.clientId) };
  const ofUser = clause('user_id = $1', s.userId);
  return { access: ofUser, refresh: ofUser, sessions: ofUser };
}

/** An access token (table alias `t`) still usable at `now`: not revoked, not expired, not past a stored idle deadline. */
const liveAt = (now: string) =>
  `t.revoked_at IS NULL AND t.expires_at > ${now} AND (t.idle_deadline_at IS NULL OR t.idle_deadline_at > ${now})`;

/**
 * True when no access token matching `match` (on `t`) is live at `now`. Written as a correlated subquery with a
 * LIMIT rather than NOT EXISTS: the planner cannot turn it into an anti join, so it probes the index once per
 * outer row even when the table's statistics are stale (right after a bulk load an anti join scans every token).
 */
export const noLiveToken = (match: string, now: string) =>
  `(SELECT 1 FROM access_tokens t WHERE ${match} AND ${liveAt(now)} LIMIT 1) IS NULL`;

/** One SQL statement and its parameters, numbered from $1. */
export interface Statement { sql: string; params: unknown[] }

/** `UPDATE table SET …` on the rows `clause` picks whose `live` column is still null; a row already stamped keeps its stamp. */
export function stampSql(table: string, live: string, clause: Clause, set: Columns, returning: string): Statement {
  const params = [...clause.params];
  const assignments = Object.entries(set).map(([column, value]) => `${column} = $${params.push(value)}`);
  return { sql: `UPDATE ${table} SET ${assignments.join(', ')} WHERE ${live} IS NULL AND ${clause.where} RETURNING ${returning}`, params };
}

/**
 * Statements run as one: each named one a `WITH` query of `final` (data-modifying ones run to completion whether
 * `final` reads them or not), their parameters renumbered after each other's. One round trip instead of several.
 */
export function together(parts: [name: string, Statement | null][], final: Statement): Statement {
  const params: unknown[] = [];
  const renumber = (st: Statement) => {
    const offset = params.length;
    params.push(...st.params);
    return st.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  };
  const queries = parts.flatMap(([name, st]) => (st ? [`${name} AS (${renumber(st)})`] : []));
  const body = renumber(final);
  return { sql: queries.length ? `WITH ${queries.join(',\n  ')}\n${body}` : body, params };
}

export function insertSql(table: string, row: Columns, suffix = ''): [string, unknown[]] {
  const columns = Object.keys(row);
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  return [`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) ${suffix}`, Object.values(row)];
}

/** `UPDATE table SET <set> WHERE <match>`, every value a parameter. */
export function updateSql(table: string, set: Columns, match: Columns): [string, unknown[]] {
  const params: unknown[] = [];
  const assign = (entries: [string, unknown][], separator: string) =>
    entries.map(([column, value]) => `${column} = $${params.push(value)}`).join(separator);
  const assignments = assign(Object.entries(set), ', ');
  return [`UPDATE ${table} SET ${assignments} WHERE ${assign(Object.entries(match), ' AND ')}`, params];
}

/** Many rows in one statement, in the order given: they travel as one JSON array, typed by the table's own row type. */
export function insertManySql(table: string, rows: Columns[]): Statement | null {
  if (!rows.length) return null;
  const columns = Object.keys(rows[0]!).join(', ');
  return {
    sql: `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM jsonb_populate_recordset(NULL::${table}, $1) WITH ORDINALITY AS r ORDER BY r.ordinality`,
    params: [JSON.stringify(rows)],
  };
}

export async function insertMany(db: Db, table: string, rows: Columns[]): Promise<void> {
  const st = insertManySql(table, rows);
  if (st) await db.query(st.sql, st.params);
}

export const codeOf = (err: unknown) => String((err as { code?: unknown }).code ?? '');

const UNIQUE_VIOLATION = '23505';

/** A unique violation as the Store's conflict; its message names the constraint, never the value (that is in `detail`). */
export function asConflict(err: unknown): unknown {
  return codeOf(err) === UNIQUE_VIOLATION ? new StoreConflictError((err as Error).message) : err;
}
