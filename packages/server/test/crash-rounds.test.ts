/**
 * Three kill -9 rounds during logouts and issuance, on the real CLI and one data directory: while
 * tokens are being issued (client_credentials for `automation`, authorization-code sign-ins of
 * the demo agents) and revoked (DELETE /api/v2/tokens/me, POST /oauth/revoke, the admin logoff
 * DELETE /api/v2/tokens/{userId}), the process is SIGKILLed after a random number of answered
 * revocations, with requests in flight. After each kill the SQLite file passes its integrity and
 * foreign-key checks and holds every answered revocation; after a restart on the same directory
 * every token whose revocation was answered is refused (401, inactive) and every answered token
 * nobody revoked still works. The ledger carries over the rounds, so later rounds also revoke
 * tokens that survived earlier crashes and re-check everything answered so far.
 *
 * Randomness (which operation, when to kill) comes from a seeded generator: the seed is printed
 * in the diagnostics and in failure messages; CRASH_ROUNDS_SEED=<n> replays the same choices
 * (the timing of a kill against the server's work cannot be replayed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import * as oauth from 'oauth4webapi';
import { sha256 } from '../src/core/secrets.ts';
import { authorizeCode, bearer, Browser, exchangeCode } from './helpers/browser.ts';
import { killRunningClis, startCli, stopCli, withTimeout, type StartedCli } from './helpers/cli.ts';
import { DEMO_PASSWORD, DEMO_SECRET } from './helpers/test-server.ts';

const ROUNDS = 3;
/** Answered revocations (per round) after which the process is killed: a random number in this range. */
const KILL_AFTER: readonly [number, number] = [8, 24];
/** A round that has not reached its kill by then fails (the load stalled or errors stopped it). */
const ROUND_MS = 30_000;
const AGENTS = ['agent@demo.test', 'agent2@demo.test'] as const;
const SIGN_IN_CLIENTS = ['agent-desktop', 'crm-embedded', 'desktop-app', 'crm-backend'] as const;
const CONFIDENTIAL: ReadonlySet<string> = new Set(['crm-backend', 'automation']);
/** Share of revocation picks that are an admin logoff of a demo agent. */
const ADMIN_LOGOFF_SHARE = 0.05;
const CC_WORKERS = 2;
/** Client-credentials issuances may run this far ahead of the round's sign-ins: CC_PER_SIGN_IN per sign-in plus CC_HEAD_START. */
const CC_PER_SIGN_IN = 2;
const CC_HEAD_START = 4;
const REVOKE_WORKERS = 2;
const CHECK_CONCURRENCY = 6;
/** Share of issued grants no logout or revocation aims at. */
const KEEP_SHARE = 0.3;

const SEED = Number(process.env.CRASH_ROUNDS_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** mulberry32: small, seedable, good enough to pick operations. */
const rand = (() => {
  let a = SEED >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
})();
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
const sqliteFile = (dataDir: string) => join(dataDir, 'lockstep.sqlite');
const startDemo = (dataDir: string) =>
  startCli({ dataDir, env: { LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET } });

/** Logical time: every send and every answer takes the next tick, so "answered before sent" is exact. */
let now = 0;
const tick = () => ++now;

type Part = 'access' | 'refresh';

/** Tokens whose issuance was answered (200 with the tokens) before a kill. */
interface Grant {
  label: string;
  round: number;
  clientId: string;
  /** The agent's email, or `automation`. */
  user: string;
  userId: string | null;
  access: string;
  refresh: string | undefined;
  /** When the issuance began (the authorize request for a sign-in) and when its tokens arrived. */
  sentSeq: number;
  answeredSeq: number;
  /** Never aimed at by a logout or revocation (only an admin logoff of its user may end it): tokens that must keep working. */
  keep: boolean;
}

type OpKind = 'logout' | 'revoke-access' | 'revoke-refresh' | 'admin-logoff';
const SUCCESS: Record<OpKind, number> = { logout: 204, 'revoke-access': 200, 'revoke-refresh': 200, 'admin-logoff': 204 };
const ROUTE: Record<OpKind, string> = {
  logout: 'DELETE /api/v2/tokens/me', 'revoke-access': 'POST /oauth/revoke (access token)',
  'revoke-refresh': 'POST /oauth/revoke (refresh token)', 'admin-logoff': 'DELETE /api/v2/tokens/{userId}',
};

/** Every revocation sent, answered or not. */
interface Op {
  label: string;
  round: number;
  kind: OpKind;
  /** The grant whose token was sent (not for an admin logoff). */
  grant: Grant | null;
  /** The user logged off (admin logoff). */
  userId: string | null;
  user: string;
  sentSeq: number;
  /** When it answered, or failed without an answer (the kill). */
  settledSeq: number | null;
  status: number | null;
  error: string | null;
}

const answeredOk = (op: Op) => op.status === SUCCESS[op.kind];
const describeOp = (op: Op) =>
  `${op.label} ${ROUTE[op.kind]} of ${op.grant ? op.grant.label : op.user} in round ${op.round}, ${op.status != null ? `answered ${op.status}` : `no answer (${op.error})`}`;
const describeGrant = (g: Grant) => `${g.label} (${g.clientId} for ${g.user}, issued in round ${g.round})`;

type Effect = 'must' | 'may' | 'none';
const STRENGTH: Record<Effect, number> = { none: 0, may: 1, must: 2 };

/** What `op` does to a token of `g`: revokes it for sure (answered), perhaps (no answer, or racing), or not at all. */
function effect(op: Op, g: Grant, part: Part): Effect {
  if (op.kind === 'admin-logoff') {
    if (!g.userId || op.userId !== g.userId) return 'none';
    if (op.status != null && !answeredOk(op)) return 'none';
    // Over (answered, or cut by a kill) before this sign-in began: the sign-in made a new session.
    if (op.settledSeq != null && op.settledSeq < g.sentSeq) return 'none';
    // The tokens were out before the logoff was sent and it answered: they are revoked.
    if (answeredOk(op) && g.answeredSeq < op.sentSeq) return 'must';
    return 'may';
  }
  if (op.grant !== g) return 'none';
  if (op.kind === 'revoke-access' && part === 'refresh') return 'none'; // RFC 7009: an access token ends alone
  if (op.status == null) return 'may'; // in flight, or cut by the kill
  return answeredOk(op) ? 'must' : 'none';
}

describe('three kill -9 rounds during logouts and issuance', () => {
  const root = mkdtempSync(join(tmpdir(), 'lockstep-crash-rounds-'));
  const dataDir = join(root, 'data');
  after(() => {
    killRunningClis();
    rmSync(root, { recursive: true, force: true });
  });

  const grants: Grant[] = [];
  const ops: Op[] = [];
  const userIds = new Map<string, string>();

  /** The strongest effect any operation has on a token, and the operation. */
  function verdict(g: Grant, part: Part): { effect: Effect; op: Op | null } {
    let best: { effect: Effect; op: Op | null } = { effect: 'none', op: null };
    for (const op of ops) {
      const e = effect(op, g, part);
      if (STRENGTH[e] > STRENGTH[best.effect]) best = { effect: e, op };
    }
    return best;
  }
  const parts = (g: Grant): [Part, string][] => g.refresh ? [['access', g.access], ['refresh', g.refresh]] : [['access', g.access]];

  // Revocation workers wait for the ledger to change (a new grant, an op settled, the kill) instead of sleeping.
  let waiters: (() => void)[] = [];
  const changed = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const nextChange = () => new Promise<void>((res) => waiters.push(res));

  interface Round {
    n: number;
    cli: StartedCli;
    url: string;
    adminToken: string;
    killAfter: number;
    answeredRevocations: number;
    killed: boolean;
    killNote: string;
    inflight: Map<number, string>;
    surprises: string[];
    cut: number;
    expectedRefusals: number;
    /** Durations of the answered sign-ins (ms). */
    signInMs: number[];
  }
  let inflightId = 0;

  const errorText = (err: unknown) => {
    const e = err as Error & { cause?: Error & { code?: string } };
    return e.cause ? `${e.message}: ${e.cause.code ?? ''} ${e.cause.message}`.trim() : String(e?.message ?? err);
  };

  function kill(r: Round) {
    if (r.killed) return;
    r.killed = true;
    tick();
    r.killNote = `${r.inflight.size} request(s) in flight: ${[...r.inflight.values()].join('; ')}`;
    r.cli.child.kill('SIGKILL');
    changed();
  }

  /** Runs one request of the load, counted as in flight; the kill comes on an answer once enough revocations answered. */
  async function inFlight(r: Round, what: string, fn: () => Promise<void>) {
    const id = ++inflightId;
    r.inflight.set(id, what);
    try {
      await fn();
    } finally {
      r.inflight.delete(id);
      if (!r.killed && r.answeredRevocations >= r.killAfter && r.inflight.size > 0) kill(r);
    }
  }

  function surprise(r: Round, what: string) {
    r.surprises.push(`${what}${r.killed ? ' (after the kill)' : ''}`);
  }

  function addGrant(g: Omit<Grant, 'keep'>) {
    grants.push({ ...g, keep: rand() < KEEP_SHARE });
    changed();
  }

  /** An admin logoff of `userId` that may have overlapped the interval [from, now]. */
  const logoffOverlapping = (userId: string | null, from: number) =>
    !!userId && ops.some((op) => op.kind === 'admin-logoff' && op.userId === userId && (op.settledSeq == null || op.settledSeq > from));

  let grantCount = 0;
  let opCount = 0;

  async function clientCredentials(r: Round) {
    const label = `cc#${++grantCount}`;
    await inFlight(r, `client_credentials ${label}`, async () => {
      const sentSeq = tick();
      try {
        const res = await fetch(`${r.url}/oauth/token`, {
          method: 'POST', headers: { 'content-type': FORM, authorization: basic('automation', DEMO_SECRET) }, body: 'grant_type=client_credentials',
        });
        const text = await res.text();
        if (res.status !== 200) return surprise(r, `${label}: client_credentials answered ${res.status} ${text.slice(0, 200)}`);
        const { access_token } = JSON.parse(text) as { access_token: string };
        addGrant({ label, round: r.n, clientId: 'automation', user: 'automation', userId: null, access: access_token, refresh: undefined, sentSeq, answeredSeq: tick() });
      } catch (err) {
        if (r.killed) r.cut++;
        else surprise(r, `${label}: client_credentials failed: ${errorText(err)}`);
      }
    });
  }

  interface SignInWorker {
    email: string;
    browser: Browser;
    count: number;
  }

  async function signIn(r: Round, w: SignInWorker) {
    const clientId = SIGN_IN_CLIENTS[w.count % SIGN_IN_CLIENTS.length]!;
    // Mostly the browser's sign-in session (no password); every fourth time a fresh browser and the login form.
    if (w.count++ % 4 === 0) w.browser = new Browser();
    const label = `signin#${++grantCount}`;
    const userId = userIds.get(w.email) ?? null;
    await inFlight(r, `sign-in ${label} (${clientId} for ${w.email})`, async () => {
      const sentSeq = tick();
      const t0 = performance.now();
      try {
        const step = await authorizeCode(r.url, w.browser, { clientId, redirectUri: `http://127.0.0.1:${between(1024, 65535)}/callback` },
          { username: w.email, password: DEMO_PASSWORD });
        const tokens = await exchangeCode(step, CONFIDENTIAL.has(clientId) ? DEMO_SECRET : undefined);
        addGrant({
          label, round: r.n, clientId, user: w.email, userId, access: tokens.access_token, refresh: tokens.refresh_token, sentSeq, answeredSeq: tick(),
        });
        r.signInMs.push(performance.now() - t0);
      } catch (err) {
        const status = err instanceof oauth.ResponseBodyError ? err.status : Number(/authorize answered (\d+)/.exec(String(err))?.[1] ?? NaN);
        const code = err instanceof oauth.ResponseBodyError ? err.error : null;
        // A code (or its session) ended by an admin logoff that ran during this sign-in: refused, as it should be.
        if (code === 'invalid_grant' && logoffOverlapping(userId, sentSeq)) r.expectedRefusals++;
        else if (Number.isNaN(status) && r.killed) r.cut++;
        else surprise(r, `${label}: sign-in of ${w.email} with ${clientId} failed: ${errorText(err)}${code ? ` (${code})` : ''}`);
      }
    });
  }

  /** Tokens no operation has aimed at yet and no admin logoff may have ended. */
  const eligible = () => grants.filter((g) => !g.keep && !ops.some((op) => op.grant === g || effect(op, g, 'access') !== 'none'));

  async function revokeOnce(r: Round) {
    let kind: OpKind;
    let grant: Grant | null = null;
    let user: string;
    if (rand() < ADMIN_LOGOFF_SHARE) {
      kind = 'admin-logoff';
      user = pick(AGENTS);
    } else {
      let targets = eligible();
      while (!targets.length) {
        await nextChange();
        if (r.killed) return;
        targets = eligible();
      }
      // Most picks among sign-ins when there are any: client_credentials tokens come much faster.
      const signIns = targets.filter((g) => g.userId);
      grant = pick(signIns.length && rand() < 0.7 ? signIns : targets);
      user = grant.user;
      const roll = rand();
      kind = grant.refresh
        ? roll < 0.35 ? 'logout' : roll < 0.6 ? 'revoke-access' : 'revoke-refresh'
        : roll < 0.55 ? 'logout' : 'revoke-access';
    }
    const op: Op = {
      label: `op#${++opCount}`, round: r.n, kind, grant, userId: grant ? grant.userId : userIds.get(user)!, user,
      sentSeq: 0, settledSeq: null, status: null, error: null,
    };
    await inFlight(r, `${op.label} ${ROUTE[kind]} of ${grant ? grant.label : user}`, async () => {
      op.sentSeq = tick();
      ops.push(op); // before the request, so no other worker aims at the same tokens
      try {
        const res = await send(r, op);
        op.status = res.status;
        op.settledSeq = tick();
        const text = await res.text().catch(() => '');
        if (answeredOk(op)) r.answeredRevocations++;
        // A logout with a token that a racing admin logoff of its user already ended.
        else if (op.kind === 'logout' && op.status === 401 && grant && logoffOverlapping(grant.userId, grant.sentSeq)) r.expectedRefusals++;
        else surprise(r, `${describeOp(op)}: expected ${SUCCESS[kind]}: ${text.slice(0, 200)}`);
      } catch (err) {
        op.error = errorText(err);
        op.settledSeq = tick();
        if (r.killed) r.cut++;
        else surprise(r, `${describeOp(op)}: failed before the kill`);
      } finally {
        changed();
      }
    });
  }

  function send(r: Round, op: Op): Promise<Response> {
    const g = op.grant;
    switch (op.kind) {
      case 'admin-logoff':
        return fetch(`${r.url}/api/v2/tokens/${encodeURIComponent(op.userId!)}`, { method: 'DELETE', headers: bearer(r.adminToken) });
      case 'logout':
        return fetch(`${r.url}/api/v2/tokens/me`, { method: 'DELETE', headers: bearer(g!.access) });
      case 'revoke-access':
      case 'revoke-refresh': {
        const refresh = op.kind === 'revoke-refresh';
        const body = new URLSearchParams({ token: refresh ? g!.refresh! : g!.access, token_type_hint: refresh ? 'refresh_token' : 'access_token' });
        const headers: Record<string, string> = { 'content-type': FORM };
        if (CONFIDENTIAL.has(g!.clientId)) headers.authorization = basic(g!.clientId, DEMO_SECRET);
        else body.set('client_id', g!.clientId);
        return fetch(`${r.url}/oauth/revoke`, { method: 'POST', headers, body });
      }
    }
  }

  /** Issuance and revocations at once until the kill. */
  async function load(r: Round) {
    const loop = async (step: () => Promise<void>) => {
      while (!r.killed) await step();
    };
    const issued = (signIn: boolean) => grants.filter((g) => g.round === r.n && !!g.userId === signIn).length;
    const workers = [
      // Client credentials answer ten times faster than a sign-in: paced by the sign-ins (a condition, not a sleep) so both kinds get revoked.
      ...Array.from({ length: CC_WORKERS }, () => loop(async () => {
        while (!r.killed && issued(false) > CC_PER_SIGN_IN * issued(true) + CC_HEAD_START) await nextChange();
        if (!r.killed) await clientCredentials(r);
      })),
      ...[...AGENTS, ...AGENTS].map((email, i) => {
        const w: SignInWorker = { email, browser: new Browser(), count: i };
        return loop(() => signIn(r, w));
      }),
      ...Array.from({ length: REVOKE_WORKERS }, () => loop(() => revokeOnce(r))),
    ];
    const all = Promise.all(workers);
    try {
      await withTimeout(all, ROUND_MS, `${r.killAfter} answered revocations in round ${r.n} (got ${r.answeredRevocations})`);
    } catch (err) {
      kill(r);
      await withTimeout(all, 10_000, 'the load to stop').catch(() => {});
      throw new Error(`${(err as Error).message} [seed ${SEED}]\nsurprises:\n${r.surprises.join('\n')}\nCLI stderr:\n${r.cli.stderr().slice(-2000)}`);
    }
  }

  const report = (what: string, failures: string[]) =>
    `${what} [seed ${SEED}]: ${failures.length} problem(s)\n${failures.slice(0, 25).join('\n')}${failures.length > 25 ? `\n… and ${failures.length - 25} more` : ''}`;

  /** The file the killed process left, opened read-only: integrity, foreign keys, and the ledger against the rows. */
  function inspectDb(after: string): { failures: string[]; mayCommitted: number; mayNot: number } {
    const db = new Database(sqliteFile(dataDir), { readonly: true, fileMustExist: true });
    const failures: string[] = [];
    let mayCommitted = 0;
    let mayNot = 0;
    try {
      const integrity = db.pragma('integrity_check') as { integrity_check: string }[];
      if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') {
        failures.push(`PRAGMA integrity_check ${after}: ${JSON.stringify(integrity)}`);
      }
      const fk = db.pragma('foreign_key_check') as unknown[];
      if (fk.length) failures.push(`PRAGMA foreign_key_check ${after}: ${fk.length} row(s): ${JSON.stringify(fk.slice(0, 10))}`);
      const row = {
        access: db.prepare('SELECT revoked_at, revoke_reason FROM access_tokens WHERE hash = ?'),
        refresh: db.prepare('SELECT revoked_at, NULL AS revoke_reason FROM refresh_tokens WHERE hash = ?'),
      };
      for (const g of grants) {
        for (const [part, raw] of parts(g)) {
          const r = row[part].get(sha256(raw)) as { revoked_at: number | null; revoke_reason: string | null } | undefined;
          const v = verdict(g, part);
          if (!r) failures.push(`${describeGrant(g)} ${part} token: answered to the client, but not in the database ${after}`);
          else if (v.effect === 'must' && r.revoked_at == null) {
            failures.push(`${describeGrant(g)} ${part} token came back ${after}: ${describeOp(v.op!)}, yet its row has revoked_at NULL`);
          } else if (v.effect === 'none' && r.revoked_at != null) {
            failures.push(`${describeGrant(g)} ${part} token: nothing revoked it, yet it is revoked ${after} (${r.revoke_reason ?? 'refresh token'})`);
          } else if (v.effect === 'may') {
            if (r.revoked_at != null) mayCommitted++;
            else mayNot++;
          }
        }
        // A grant-wide operation that got no answer is all or nothing: the access token and the refresh token together.
        if (g.refresh) {
          const a = row.access.get(sha256(g.access)) as { revoked_at: number | null } | undefined;
          const f = row.refresh.get(sha256(g.refresh)) as { revoked_at: number | null } | undefined;
          const touching = ops.filter((op) => effect(op, g, 'access') !== 'none' || effect(op, g, 'refresh') !== 'none');
          if (a && f && touching.length === 1 && touching[0]!.kind !== 'revoke-access' && (a.revoked_at == null) !== (f.revoked_at == null)) {
            failures.push(`${describeGrant(g)}: ${describeOp(touching[0]!)} left the access token ${a.revoked_at == null ? 'live' : 'revoked'} and the refresh token ${f.revoked_at == null ? 'live' : 'revoked'} ${after}`);
          }
        }
      }
    } finally {
      db.close();
    }
    return { failures, mayCommitted, mayNot };
  }

  async function introspect(url: string, token: string): Promise<boolean | string> {
    const res = await fetch(`${url}/oauth/introspect`, {
      method: 'POST', headers: { 'content-type': FORM, authorization: basic('crm-backend', DEMO_SECRET) }, body: new URLSearchParams({ token }),
    });
    const text = await res.text();
    if (res.status !== 200) return `introspection answered ${res.status} ${text.slice(0, 200)}`;
    return (JSON.parse(text) as { active: boolean }).active;
  }

  /** Over HTTP on the restarted process: revoked tokens are refused and inactive, the others live and active. */
  async function checkOverHttp(url: string, after: string): Promise<{ failures: string[]; dead: number; live: number; unknown: number }> {
    const failures: string[] = [];
    const counts = { dead: 0, live: 0, unknown: 0 };
    const checks: (() => Promise<void>)[] = [];
    for (const g of grants) {
      for (const [part, raw] of parts(g)) {
        const v = verdict(g, part);
        if (v.effect === 'may') {
          counts.unknown++;
          continue;
        }
        const dead = v.effect === 'must';
        counts[dead ? 'dead' : 'live']++;
        const why = dead ? `came back ${after}: ${describeOp(v.op!)}, yet` : `was revoked by nothing, yet ${after}`;
        checks.push(async () => {
          if (part === 'access') {
            const head = await fetch(`${url}/api/v2/tokens/me`, { method: 'HEAD', headers: bearer(raw) });
            if (head.status !== (dead ? 401 : 200)) failures.push(`${describeGrant(g)} access token ${why} HEAD /api/v2/tokens/me answered ${head.status}`);
          }
          const active = await introspect(url, raw);
          if (active !== !dead) failures.push(`${describeGrant(g)} ${part} token ${why} POST /oauth/introspect says ${typeof active === 'string' ? active : `active: ${active}`}`);
        });
      }
    }
    let next = 0;
    await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, async () => {
      while (next < checks.length) await checks[next++]!();
    }));
    return { failures, ...counts };
  }

  async function adminToken(url: string): Promise<string> {
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': FORM, authorization: basic('automation', DEMO_SECRET) }, body: 'grant_type=client_credentials',
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { access_token: string }).access_token;
  }

  test('no answered revocation comes back, the database passes its integrity check', async (t) => {
    const started = performance.now();
    t.diagnostic(`seed ${SEED} (CRASH_ROUNDS_SEED=${SEED} replays the choices)`);
    let cli = await startDemo(dataDir);

    // The agents' user ids, for the admin logoffs; these first sign-ins go into the ledger too.
    for (const email of AGENTS) {
      const sentSeq = tick();
      const step = await authorizeCode(cli.url, new Browser(), { clientId: 'agent-desktop' }, { username: email, password: DEMO_PASSWORD });
      const tokens = await exchangeCode(step);
      const me = await fetch(`${cli.url}/api/v2/users/me`, { headers: bearer(tokens.access_token) });
      assert.equal(me.status, 200);
      const userId = ((await me.json()) as { id: string }).id;
      userIds.set(email, userId);
      addGrant({ label: `signin#${++grantCount}`, round: 1, clientId: 'agent-desktop', user: email, userId, access: tokens.access_token,
        refresh: tokens.refresh_token, sentSeq, answeredSeq: tick() });
    }

    for (let n = 1; n <= ROUNDS; n++) {
      const roundStart = performance.now();
      const r: Round = {
        n, cli, url: cli.url, adminToken: await adminToken(cli.url), killAfter: between(...KILL_AFTER), answeredRevocations: 0,
        killed: false, killNote: '', inflight: new Map(), surprises: [], cut: 0, expectedRefusals: 0, signInMs: [],
      };
      const grantsBefore = grants.length;
      const opsBefore = ops.length;
      await load(r);
      const { signal } = await withTimeout(cli.exited, 10_000, `round ${n}: exit after SIGKILL`);
      assert.equal(signal, 'SIGKILL', `round ${n}: the CLI died of our SIGKILL (stderr: ${cli.stderr().slice(-2000)})`);
      assert.equal(r.surprises.length, 0, report(`round ${n}: unexpected answers during the load`, r.surprises) + `\nCLI stderr:\n${cli.stderr().slice(-2000)}`);

      const after = `after kill ${n}`;
      const db = inspectDb(after);
      assert.equal(db.failures.length, 0, report(`the SQLite file ${after}`, db.failures));

      cli = await startDemo(dataDir);
      const http = await checkOverHttp(cli.url, `after restart ${n}`);
      assert.equal(http.failures.length, 0, report(`over HTTP after restart ${n}`, http.failures));

      const roundOps = ops.slice(opsBefore);
      const byKind = Object.fromEntries((Object.keys(SUCCESS) as OpKind[]).map((k) => [k, roundOps.filter((o) => o.kind === k && answeredOk(o)).length]));
      t.diagnostic(`round ${n}: killed after ${r.answeredRevocations} answered revocations (target ${r.killAfter}) with ${r.killNote}; `
        + `issuances answered: ${grants.slice(grantsBefore).filter((g) => !g.userId).length} client_credentials, ${grants.slice(grantsBefore).filter((g) => g.userId).length} sign-ins (${r.signInMs.map((ms) => ms.toFixed(0)).join('/')} ms); `
        + `answered revocations ${JSON.stringify(byKind)} (${roundOps.filter((o) => o.grant?.userId && answeredOk(o)).length} of sign-in tokens); ${r.cut} requests cut by the kill, `
        + `${r.expectedRefusals} refusals caused by racing admin logoffs; undecided tokens in the file: ${db.mayCommitted} revoked, ${db.mayNot} not; `
        + `checked over HTTP: ${http.dead} revoked, ${http.live} live (${http.unknown} undecided); ${((performance.now() - roundStart) / 1000).toFixed(1)} s`);
    }

    await stopCli(cli);
    const last = inspectDb('after the final clean stop');
    assert.equal(last.failures.length, 0, report('the SQLite file after the final clean stop', last.failures));
    const dead = grants.flatMap((g) => parts(g).filter(([p]) => verdict(g, p).effect === 'must')).length;
    const live = grants.flatMap((g) => parts(g).filter(([p]) => verdict(g, p).effect === 'none')).length;
    assert.ok(dead >= ROUNDS * KILL_AFTER[0], `enough answered revocations were checked: ${dead}`);
    assert.ok(live > 0, 'some tokens nobody revoked were checked too');
    t.diagnostic(`${grants.length} grants, ${ops.length} revocations sent; ${dead} tokens checked revoked, ${live} checked live; `
      + `${((performance.now() - started) / 1000).toFixed(1)} s in all`);
  });
});
