import { newId } from '../core/ids.ts';
import type { Logger } from 'pino';
import type { Bus, LockstepEvent } from '../bus/events.ts';
import type { Clock } from '../core/clock.ts';
import { ServiceUnavailable, type ApiError } from '../core/errors.ts';
import { countsAsActivity, type TokenUse } from '../core/idle-policy.ts';
import { idleDeadline, idleExpiresAt, judgeToken, refusal, unknownToken, type LiveToken } from '../core/live-token.ts';
import { backchannelLogoutsFor, owesBackchannel, USER_WIDE } from '../core/logout-policy.ts';
import type { AccessToken, ClusterLogEntry, RevokeReason, RevokedSet, RevokeSelection } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import { AccessTokenCache } from './access-token-cache.ts';
import { ActivityRecorder } from './activity.ts';
import type { AuditKind } from './audit.ts';
import { IdleExpirer } from './idle-expirer.ts';
import { IdleTimeouts } from './idle-timeouts.ts';
import type { Membership } from './membership.ts';
import type { Metrics } from './metrics.ts';
import type { OrgSettingsCache } from './org-settings.ts';

export type Admission =
  /** `at`: the clock reading the token was judged at (the request budget counts at the same instant). */
  | { admitted: true; token: LiveToken; idleExpiresAt: number | null; at: number }
  | { admitted: false; refusal: ApiError };

export interface EndContext {
  orgId: string;
  userId: string | null;
  reason: RevokeReason;
  initiatingClientId: string | null;
  /** Who asked, when it is not the user themself (an admin, an IdP client). */
  actor?: Record<string, unknown>;
}

export interface LedgerDeps {
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: OrgSettingsCache;
  /** The other nodes (none in the embedded default): an ending returns once they all have applied it. */
  membership: Membership;
  /** Called once an ending's back-channel logouts are in the outbox. */
  onBackchannelQueued?: () => void;
  metrics: Pick<Metrics, 'logouts' | 'idleExpiries' | 'expiryLateness'>;
}

/** Revocations that are audit entries of their own kind. Deleting a user or a client is not audited yet. */
const AUDITED: ReadonlySet<RevokeReason> = new Set<AuditKind & RevokeReason>([
  'logout', 'universal_logout', 'idle_timeout', 'admin_logoff', 'global_revocation', 'revocation', 'refresh_reuse',
]);

/**
 * The life of every access token, in one place: admitted on each call (hash → verdict → activity),
 * ended by every logout, logoff and revocation (selection → one transaction → announce), expired
 * when idle. Routes call it; it knows nothing of HTTP.
 */
export class TokenLedger {
  readonly idle: IdleTimeouts;
  readonly #cache: AccessTokenCache;
  readonly #activity: ActivityRecorder;
  readonly #expirer: IdleExpirer;

  private constructor(private readonly deps: LedgerDeps) {
    const { store, clock, log, settings, metrics } = deps;
    this.idle = new IdleTimeouts(store, settings);
    this.#cache = new AccessTokenCache(store, (t) => this.idle.timeoutMsFor(t));
    this.#activity = new ActivityRecorder(store, (err) => log.error({ err }, 'activity write-back failed'));
    this.#expirer = new IdleExpirer({
      store, clock, log, metrics, tokens: this.#cache, announce: (r) => this.#announce(r), flushActivity: () => this.#activity.flush(),
      adopt: (record) => this.track(record),
    });
    this.idle.tokens = this.#cache;
    this.idle.onReschedule = (t) => {
      this.#activity.retimed(t);
      this.#expirer.schedule(t);
    };
    this.#cache.onTrack = (t) => this.#expirer.schedule(t);
  }

  /**
   * The ledger with the interactions that exempt users. Tokens enter memory as this node sees them (issued,
   * used, or found past their deadline by the expirer's store sweep), so memory follows this node's traffic.
   */
  static async open(deps: LedgerDeps): Promise<TokenLedger> {
    const ledger = new TokenLedger(deps);
    await ledger.idle.loadExemptions();
    return ledger;
  }

  /**
   * The hot path: is the token with this hash usable for this call, and if so the call's activity
   * is recorded. A cached token answers synchronously (no promise, no store read); a miss reads the store.
   */
  admit(hash: string, use: TokenUse): Admission | Promise<Admission> {
    if (!this.deps.membership.held()) return { admitted: false, refusal: LEASE_LAPSED };
    const cached = this.#cache.peek(hash);
    if (cached) return this.#admit(cached, use);
    return this.#cache.get(hash).then((token) => this.#admit(token, use));
  }

  #admit(token: LiveToken | null, use: TokenUse, confirmed = false): Admission | Promise<Admission> {
    if (!token) return { admitted: false, refusal: unknownToken() };
    const now = this.deps.clock.now();
    const verdict = judgeToken(token, now);
    if (!verdict.live) {
      // Past its idle deadline as this node saw it: the slow path. The expirer confirms the deadline with the
      // store (activity elsewhere may have moved it) and ends the token, then the call is judged again.
      if (verdict.problem === 'idle_timeout' && token.revokedAt == null && !confirmed) {
        return this.#expirer.sweep().then(() => this.#admit(token, use, true));
      }
      return { admitted: false, refusal: refusal(token, verdict) };
    }
    if (countsAsActivity(use, this.deps.settings.peek(token.orgId)?.excluded)) this.#activity.record(token, now);
    return { admitted: true, token, idleExpiresAt: idleExpiresAt(token), at: now };
  }

  /** The token with this hash, live or not, without counting as activity (introspection). */
  find(hash: string): Promise<LiveToken | null> {
    return this.#cache.get(hash);
  }

  /** Saves a token just minted, with the idle deadline that applies to it, and tracks it. */
  async issue(record: AccessToken): Promise<LiveToken> {
    const idleTimeoutMs = await this.idle.timeoutMsFor(record);
    await this.deps.store.saveAccessToken({ ...record, idleDeadlineAt: idleTimeoutMs == null ? null : record.lastActivityAt + idleTimeoutMs });
    return this.#cache.add(record, idleTimeoutMs);
  }

  /** Tracks a token already in the store (at start; benchmarks seed the store directly); a stored deadline that disagrees is rewritten. */
  async track(record: AccessToken): Promise<LiveToken> {
    const token = await this.#cache.add(record);
    if (token.revokedAt == null && (record.idleDeadlineAt ?? null) !== idleDeadline(token)) this.#activity.retimed(token);
    return token;
  }

  /** The tokens of a user this node tracks, live or recently ended. */
  tokensOf(userId: string): Iterable<LiveToken> {
    return this.#cache.ofUser(userId);
  }

  /** The user's tokens usable now, every node's (the store's list, taken into memory: the console looks at them). */
  async liveTokensOfUser(user: { orgId: string; id: string }): Promise<LiveToken[]> {
    const now = this.deps.clock.now();
    const stored = await this.deps.store.liveAccessTokensOfUser(user.orgId, user.id, now, TOKENS_LISTED_PER_USER);
    const tokens = await Promise.all(stored.map((record) => this.#cache.peek(record.hash) ?? this.track(record)));
    return tokens.filter((t) => judgeToken(t, now).live);
  }

  get trackedCount(): number {
    return this.#cache.size;
  }

  /**
   * Ends credentials. One store transaction commits the revocation with its audit entry, its
   * back-channel logouts (durable outbox) and, for user-wide endings, the user's Offline status;
   * then the tokens are marked ended in memory and the channels told, before this returns.
   */
  async end(selection: RevokeSelection, ctx: EndContext): Promise<RevokedSet> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const clients = owesBackchannel(ctx.reason) ? await store.listClients(ctx.orgId) : [];
    const kind = AUDITED.has(ctx.reason) ? (ctx.reason as AuditKind) : undefined;
    const revoked = await store.revoke(selection, now, ctx.reason, (set, clientSessions) => {
      const outbox = backchannelLogoutsFor(set, { ...ctx, now, newId }, clients, clientSessions);
      return {
        outbox,
        setUserOffline: USER_WIDE.has(ctx.reason) && ctx.userId ? { orgId: ctx.orgId, userId: ctx.userId } : undefined,
        audit: kind && {
          orgId: ctx.orgId, at: now, kind, userId: ctx.userId, clientId: ctx.initiatingClientId,
          details: {
            ...(ctx.actor ? { actor: ctx.actor } : {}),
            accessTokenIds: set.accessTokens.map((t) => t.id),
            clients: [...new Set(set.accessTokens.map((t) => t.clientId))],
            refreshTokens: set.refreshTokenIds.length,
            signInSessionIds: set.signInSessionIds,
            backchannelLogouts: outbox.map((o) => ({ clientId: o.clientId, jti: o.id })),
          },
        },
      };
    });
    if (revoked.accessTokens.length || revoked.refreshTokenIds.length || revoked.signInSessionIds.length) this.deps.metrics.logouts.inc({ reason: ctx.reason });
    // Announced and propagated at once: the events and the log notice leave together, in one bus message.
    const announced = this.#announce({
      ...ctx, at: now, tokens: revoked.accessTokens.map((t) => ({ id: t.id, hash: t.hash, clientId: t.clientId })),
      userOffline: USER_WIDE.has(ctx.reason),
    });
    const propagated = this.deps.membership.propagate(revoked.logSeq);
    this.deps.onBackchannelQueued?.();
    await Promise.all([announced, propagated]);
    return revoked;
  }

  /**
   * What other nodes wrote to the cluster log, applied to this node's memory (entries of its own are no-ops).
   * Returns the tokens held here that it ended, whose channels the bus may not have reached (Redis down).
   */
  async apply(entries: ClusterLogEntry[]): Promise<LiveToken[]> {
    const endedHere: LiveToken[] = [];
    for (const e of entries) {
      if (e.kind !== 'token_ended') continue;
      const held = this.#cache.peek(e.tokenHash);
      if (held && held.revokedAt == null) endedHere.push(held);
      this.#cache.markRevoked([e.tokenHash], e.at, e.reason);
    }
    for (const e of entries) {
      if (e.kind === 'org_changed') {
        await this.deps.settings.reload(e.orgId);
        await this.idle.reapplyToOrg(e.orgId);
      } else if (e.kind === 'user_changed') {
        await this.idle.reloadUser(e.userId, this.deps.clock.now(), (t, at) => this.#activity.record(t, at));
      }
    }
    return endedHere;
  }

  /**
   * After an ending commits: marks the tokens in memory — before the ending call returns, so no
   * request is accepted with them afterwards — then tells every channel of every token and pushes
   * the user's new status. Every way a token ends goes through here.
   */
  async #announce(r: Ended): Promise<void> {
    const { bus, log } = this.deps;
    this.#cache.markRevoked(r.tokens.map((t) => t.hash), r.at, r.reason);
    // The ending is committed and in the cluster log; a bus that is down only delays other nodes' channels (they
    // close them as they apply the log), so its failure is logged, not the caller's.
    const publish = (e: LockstepEvent) => bus.publish(e).catch((err) => log.warn({ err, event: e.type }, 'bus publish failed; other nodes learn of it from the cluster log'));
    const sent: Promise<void>[] = [];
    if (r.tokens.length) {
      sent.push(publish({
        type: 'token.revoked', orgId: r.orgId, userId: r.userId, reason: r.reason, initiatingClientId: r.initiatingClientId, at: r.at, tokens: r.tokens,
      }));
    }
    if (r.userOffline && r.userId) {
      sent.push(publish({ type: 'presence.changed', orgId: r.orgId, userId: r.userId, presence: 'Offline', routingStatus: 'OFF_QUEUE', at: r.at }));
    }
    await Promise.all(sent);
  }

  /** Expires every token due now; callers that must not see a stale sign-in session await it. */
  sweep(): Promise<void> {
    return this.#expirer.sweep();
  }

  /** A setting or a group of the org changed: every token of the org gets its timeout again, on every node, before this returns. */
  async retimeOrg(orgId: string): Promise<void> {
    await this.idle.reapplyToOrg(orgId);
    await this.deps.membership.announce({ kind: 'org_changed', orgId }, this.deps.clock.now());
  }

  /** The user's interactions changed (stored already): the exemption is re-read, here and on every node before this returns. */
  async interactionsChanged(orgId: string, userId: string, now: number): Promise<void> {
    await this.idle.reloadUser(userId, now, (t, at) => this.#activity.record(t, at));
    await this.deps.membership.announce({ kind: 'user_changed', orgId, userId }, now);
  }

  /** Observers of each idle expiry (benchmarks measure lateness with it). */
  set onExpired(observer: IdleExpirer['onExpired']) {
    this.#expirer.onExpired = observer;
  }

  /** Entries waiting in the expirer's deadline queue (live and stale). */
  get queuedDeadlines(): number {
    return this.#expirer.queued;
  }

  start(): void {
    this.#activity.start();
    this.#expirer.start();
  }

  async stop(): Promise<void> {
    await this.#expirer.stop();
    await this.#activity.stop();
  }
}

/** A user holds a few tokens per client at most; the console's list stops here. */
const TOKENS_LISTED_PER_USER = 1000;

const LEASE_LAPSED = ServiceUnavailable('This node has lost contact with the cluster and cannot vouch for tokens right now; retry, another node will answer');

export interface Ended {
  orgId: string;
  userId: string | null;
  reason: RevokeReason;
  initiatingClientId: string | null;
  at: number;
  tokens: { id: string; hash: string; clientId: string }[];
  /** The user was left without a live token: push Offline / OFF_QUEUE. */
  userOffline: boolean;
}
