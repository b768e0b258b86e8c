import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../bus/events.ts';
import type { Clock } from '../core/clock.ts';
import type { ApiError } from '../core/errors.ts';
import { countsAsActivity, type TokenUse } from '../core/idle-policy.ts';
import { idleDeadline, idleExpiresAt, judgeToken, refusal, unknownToken, type LiveToken } from '../core/live-token.ts';
import { backchannelLogoutsFor, owesBackchannel, USER_WIDE } from '../core/logout-policy.ts';
import type { AccessToken, RevokeReason, RevokedSet, RevokeSelection } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import { AccessTokenCache } from './access-token-cache.ts';
import { ActivityRecorder } from './activity.ts';
import type { AuditKind } from './audit.ts';
import { IdleExpirer } from './idle-expirer.ts';
import { IdleTimeouts, type InteractionChange } from './idle-timeouts.ts';
import type { OrgSettingsCache } from './org-settings.ts';

export type Admission =
  | { admitted: true; token: LiveToken; idleExpiresAt: number | null }
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
  /** Called once an ending's back-channel logouts are in the outbox. */
  onBackchannelQueued?: () => void;
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
    const { store, clock, log, settings } = deps;
    this.idle = new IdleTimeouts(store, settings);
    this.#cache = new AccessTokenCache(store, (t) => this.idle.timeoutMsFor(t));
    this.#activity = new ActivityRecorder(store, (err) => log.error({ err }, 'activity write-back failed'));
    this.#expirer = new IdleExpirer({
      store, clock, log, tokens: this.#cache, announce: (r) => this.#announce(r), flushActivity: () => this.#activity.flush(),
    });
    this.idle.tokens = this.#cache;
    this.idle.onReschedule = (t) => {
      this.#activity.retimed(t);
      this.#expirer.schedule(t);
    };
    this.#cache.onTrack = (t) => this.#expirer.schedule(t);
  }

  /** The ledger with the interactions that exempt users and every live token of the store. */
  static async open(deps: LedgerDeps): Promise<TokenLedger> {
    const ledger = new TokenLedger(deps);
    await ledger.idle.loadExemptions();
    for (const record of await deps.store.listLiveAccessTokens(deps.clock.now())) await ledger.track(record);
    return ledger;
  }

  /**
   * The hot path: is the token with this hash usable for this call, and if so the call's activity
   * is recorded. A cached token answers synchronously (no promise, no store read); a miss reads the store.
   */
  admit(hash: string, use: TokenUse): Admission | Promise<Admission> {
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
    return { admitted: true, token, idleExpiresAt: idleExpiresAt(token) };
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

  /** The user's tokens usable now. */
  liveTokensOf(userId: string): LiveToken[] {
    const now = this.deps.clock.now();
    return [...this.#cache.ofUser(userId)].filter((t) => judgeToken(t, now).live);
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
      const outbox = backchannelLogoutsFor(set, { ...ctx, now, newId: randomUUID }, clients, clientSessions);
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
    await this.#announce({
      ...ctx, at: now, tokens: revoked.accessTokens.map((t) => ({ id: t.id, hash: t.hash, clientId: t.clientId })),
      userOffline: USER_WIDE.has(ctx.reason),
    });
    this.deps.onBackchannelQueued?.();
    return revoked;
  }

  /**
   * After an ending commits: marks the tokens in memory — before the ending call returns, so no
   * request is accepted with them afterwards — then tells every channel of every token and pushes
   * the user's new status. Every way a token ends goes through here.
   */
  async #announce(r: Ended): Promise<void> {
    const { bus } = this.deps;
    this.#cache.markRevoked(r.tokens.map((t) => t.hash), r.at, r.reason);
    if (r.tokens.length) {
      await bus.publish({
        type: 'token.revoked', orgId: r.orgId, userId: r.userId, reason: r.reason, initiatingClientId: r.initiatingClientId, at: r.at, tokens: r.tokens,
      });
    }
    if (r.userOffline && r.userId) {
      await bus.publish({ type: 'presence.changed', orgId: r.orgId, userId: r.userId, presence: 'Offline', routingStatus: 'OFF_QUEUE', at: r.at });
    }
  }

  /** Expires every token due now; callers that must not see a stale sign-in session await it. */
  sweep(): Promise<void> {
    return this.#expirer.sweep();
  }

  /** A setting or a group of the org changed: every token of the org gets its timeout again, at once. */
  retimeOrg(orgId: string): Promise<void> {
    return this.idle.reapplyToOrg(orgId);
  }

  /** The interaction feed changed whether the user is exempt; leaving the exemption restarts each token's idle clock. */
  interactionChanged(i: InteractionChange, now: number): Promise<void> {
    return this.idle.interactionChanged(i, now, (t, at) => this.#activity.record(t, at));
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
