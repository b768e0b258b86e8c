import { AuthorizedApi, TOKEN_CHECK_PATH, TOKEN_INFO_PATH } from './api.ts';
import { Emitter } from './emitter.ts';
import { LockstepError } from './errors.ts';
import { FallbackHeartbeat } from './heartbeat.ts';
import { HostFrame } from './host-frame.ts';
import { IdleTracker } from './idle-tracker.ts';
import { listenForInput } from './input-activity.ts';
import { NotificationChannel, UNNAMED_REVOCATION } from './notification-channel.ts';
import { resolveOptions, type Settings } from './options.ts';
import { randomString } from './pkce.ts';
import { handleRedirectCallback } from './redirect-callback.ts';
import { currentPath } from './return-to.ts';
import { clearReturnTo, clearToken, isTokenRecord, loadToken, saveReturnTo, saveToken, type TokenRecord } from './session-storage.ts';
import { SessionState } from './session-state.ts';
import { SignInController } from './sign-in-controller.ts';
import { describeSignOut, isSignOutReason } from './sign-out-messages.ts';
import { TabSync, type TabMessage } from './tab-sync.ts';
import { readTokenInfo } from './token-info.ts';
import { isInvalidToken, signOutReasonOf, type TokenRefusal } from './token-refusal.ts';
import type {
  LockstepEvents, LockstepOptions, LockstepState, LockstepUser, RedirectCallbackOptions, SignInOptions, SignInOutcome, SignOutReason,
} from './types.ts';

/** How long a new tab waits for another tab of the same client to offer its token. */
const TAB_TOKEN_WAIT_MS = 300;
/** How long a 401 `token.revoked` without a known reason waits for the channel to name it. */
const REVOCATION_PROBE_MS = 1000;
/** When the idle check could not reach the server, try again after this long. */
const RECHECK_MS = 5000;

/**
 * The browser SDK of a Lockstep client app: sign-in (code + PKCE), one session shared by the tabs of
 * the client, the idle deadline and its warning, and the notification channel that ends the session
 * the moment the server revokes the token.
 *
 * @example
 * const lockstep = new Lockstep({ issuer: 'https://auth.example.com', clientId: 'agent-desktop', redirectUri: location.origin + '/callback' });
 * lockstep.on('signedOut', (e) => showBanner(e.message));
 * if ((await lockstep.start()) !== 'signed_in') await lockstep.signIn();
 */
export class Lockstep {
  readonly #s: Settings;
  readonly #events = new Emitter<LockstepEvents>();
  readonly #state: SessionState;
  readonly #api: AuthorizedApi;
  readonly #idle: IdleTracker;
  readonly #channel: NotificationChannel;
  readonly #heartbeat: FallbackHeartbeat;
  readonly #host: HostFrame | null;
  readonly #signIn: SignInController;
  readonly #tabId = randomString(9);
  #tabs: TabSync | null = null;
  #token: TokenRecord | null = null;
  #user: LockstepUser | null = null;
  /** The token's info (user, idle timeout) was read from the server since this token was adopted. */
  #infoKnown = false;
  #lastActivityCallAt = -Infinity;
  #stopInput: (() => void) | null = null;
  #starting: Promise<LockstepState> | null = null;
  #signingOut = false;

  constructor(options: LockstepOptions) {
    const s = (this.#s = resolveOptions(options));
    this.#state = new SessionState((state) => {
      this.#syncHeartbeat();
      this.#events.emit('stateChange', { state });
    });
    this.#api = new AuthorizedApi({
      issuer: s.issuer, fetch: s.fetch, token: () => this.#token,
      onIdleDeadline: (deadline) => this.#idleTold(deadline, true),
      onRejected: (refusal) => void this.#rejected(refusal),
    });
    this.#idle = new IdleTracker(s.clock, s.idleWarningMs, {
      onWarning: (idleExpiresAt, msLeft) => this.#events.emit('idleWarning', { idleExpiresAt, msLeft }),
      onReset: (idleExpiresAt) => this.#events.emit('idleReset', { idleExpiresAt }),
      onDue: () => void this.#checkToken().catch(() => this.#idle.recheckIn(RECHECK_MS)),
    });
    this.#channel = new NotificationChannel({
      api: this.#api, WebSocket: s.WebSocket, clock: s.clock, random: s.random,
      onState: (event) => {
        this.#syncHeartbeat();
        this.#events.emit('channel', event);
      },
      onNotification: (message) => this.#events.emit('notification', message),
      onTokenEnded: (end) => (end ? this.#end(end.reason, end.initiatingClientId) : void this.#checkToken().catch(() => undefined)),
    });
    // HEAD ...?preserveIdleTTL=true: never activity; the deadline comes in its header, a 401 ends the session through
    // the api. Without the token's info yet (the server was unreachable at start) it reads the info instead (not activity).
    this.#heartbeat = new FallbackHeartbeat(s.clock, s.heartbeatIntervalMs, async () => {
      if (this.#infoKnown) await this.#api.call(TOKEN_CHECK_PATH, { method: 'HEAD' });
      else await this.#checkToken();
    });
    this.#host = s.window && s.allowedHostOrigins.length ? new HostFrame(s.window, s.allowedHostOrigins, () => this.recordActivity()) : null;
    this.#signIn = new SignInController(s, {
      state: this.#state,
      hasSession: () => this.#token != null,
      blocked: () => this.#events.emit('signInBlocked', { reason: 'popup_blocked' }),
      adopt: (token) => {
        if (this.#token) this.#forget(null); // another user's session, replaced
        clearReturnTo(s.storage, s.clientId);
        return this.#adopt(token, true);
      },
    });
  }

  get state(): LockstepState {
    return this.#state.current;
  }

  get user(): LockstepUser | null {
    return this.#user;
  }

  /** The idle deadline (ms epoch) as this client knows it, or null when no idle timeout applies. */
  get idleExpiresAt(): number | null {
    return this.#idle.deadline;
  }

  on<E extends keyof LockstepEvents>(event: E, handler: (payload: LockstepEvents[E]) => void): () => void {
    return this.#events.on(event, handler);
  }

  /** Restores the session of this tab, or of another tab of the same client; answers the resulting state. */
  start(): Promise<LockstepState> {
    return (this.#starting ??= this.#restore());
  }

  /**
   * Signs in (authorization code + PKCE S256). By default: the redirect flow (this page goes to the sign-in page and
   * comes back to `returnTo`); framed by another origin, a silent sign-in, then a popup when the user has to sign in.
   * A blocked popup emits `signInBlocked`: call `signIn({ display: 'popup' })` from a click then.
   */
  signIn(opts: SignInOptions = {}): Promise<SignInOutcome> {
    return this.#signIn.signIn(opts);
  }

  /** Logs out this client (all of the user's clients when the organization has universal logout on) and every tab of it. */
  async signOut(): Promise<void> {
    const token = this.#token;
    if (!token || !this.#state.can('ended')) return;
    this.#signingOut = true;
    this.#channel.stop();
    this.#syncHeartbeat();
    try {
      await this.#s.fetch(this.#s.issuer + TOKEN_INFO_PATH, { method: 'DELETE', headers: { authorization: `Bearer ${token.accessToken}` } });
    } catch {
      // Offline: the token is forgotten here all the same, and expires on the server by itself.
    } finally {
      this.#signingOut = false;
    }
    this.#end('logout', this.#s.clientId, { selfInitiated: true });
  }

  /**
   * `fetch` with the bearer token, to the issuer's origin only. The server decides whether the call is activity; the
   * idle deadline comes in its answer (`Lockstep-Idle-Expires`). A 401 ends the session by its code.
   */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return this.#api.call(path, init);
  }

  /** Records activity now (the user answered the idle warning): `HEAD /api/v2/tokens/me`, which is activity. */
  async staySignedIn(): Promise<void> {
    if (this.state !== 'signed_in') throw new LockstepError('not_signed_in', 'Not signed in');
    this.#lastActivityCallAt = this.#s.clock.now();
    await this.#api.call(TOKEN_INFO_PATH, { method: 'HEAD' });
  }

  /** Subscribes the notification channel to topics such as `v2.users.{id}.presence`; messages come as `notification` events. */
  async subscribe(topics: string[]): Promise<void> {
    if (this.state !== 'signed_in') throw new LockstepError('not_signed_in', 'Sign in before subscribing to notifications');
    await this.#channel.subscribe(topics);
  }

  /**
   * Activity of the user (input, or the host page): tells the server (`HEAD /api/v2/tokens/me`), at most once per
   * `activityThrottleMs`, and not when the deadline the server told shows it counted activity within that time.
   */
  recordActivity(): void {
    if (this.state !== 'signed_in') return;
    const now = this.#s.clock.now();
    const lastCounted = Math.max(this.#lastActivityCallAt, this.#idle.lastCountedAt ?? -Infinity);
    if (now - lastCounted < this.#s.activityThrottleMs) return;
    this.#lastActivityCallAt = now;
    this.#api.call(TOKEN_INFO_PATH, { method: 'HEAD' }).catch(() => undefined);
  }

  /**
   * On the redirect page: finishes a redirect sign-in and answers the path to return to; hands a popup or silent
   * answer to the window that started it and answers `about:blank`. Either way: `location.replace(await ...)`.
   */
  static handleRedirectCallback(options: RedirectCallbackOptions): Promise<string> {
    return handleRedirectCallback(options);
  }

  async #restore(): Promise<LockstepState> {
    const s = this.#s;
    try {
      if (s.broadcast) this.#tabs = new TabSync(s.broadcast, `lockstep:${s.clientId}`, this.#tabId, s.clock, (m) => this.#onTab(m));
    } catch {
      this.#tabs = null; // a frame denied storage may be denied BroadcastChannel too: this tab alone, then
    }
    this.#host?.listen();
    const token = loadToken(s.storage, s.clientId) ?? (await this.#tabs?.requestToken(TAB_TOKEN_WAIT_MS)) ?? null;
    if (this.state !== 'starting') return this.state;
    if (!token) {
      this.#state.to('signed_out');
      return this.state;
    }
    return this.#adopt(token, true);
  }

  /** Validates a token (without counting as activity) and, when live, makes it this tab's session. */
  async #adopt(token: TokenRecord, announce: boolean): Promise<LockstepState> {
    const s = this.#s;
    this.#token = token;
    saveToken(s.storage, s.clientId, token);
    const result = await readTokenInfo(this.#api, true).catch(() => null); // null: server unreachable
    if (this.#token?.sid !== token.sid) return this.state; // ended or replaced meanwhile
    if (result && !result.ok && result.status === 401) {
      // A token the server never knew is just dropped; one that ended says why.
      const refusal = result.refusal;
      if (refusal && !isInvalidToken(refusal) && this.#state.can('ended')) this.#end(signOutReasonOf(refusal) ?? UNNAMED_REVOCATION, null);
      else this.#forget(this.#state.current === 'starting' ? 'signed_out' : null);
      return this.state;
    }
    const info = result?.ok ? result.info : null; // unreachable or failing: signed in as last known, the heartbeat checks again
    this.#infoKnown = info != null;
    this.#user = info ? info.user : (token.user ?? null);
    if (info) saveToken(s.storage, s.clientId, (this.#token = { ...token, user: info.user, expiresAt: info.expiresAt ?? token.expiresAt }));
    this.#idle.configure(info ?? { idleTimeoutMs: null, idleExpiresAt: null, expiresAt: token.expiresAt });
    if (!this.#state.to('signed_in')) return this.state;
    this.#events.emit('signedIn', { user: this.#user, idleExpiresAt: this.#idle.deadline });
    if (announce) this.#tabs?.post({ type: 'signed-in', token: this.#token });
    this.#channel.start();
    if (s.activity === 'input' && s.window) this.#stopInput = listenForInput(s.window, () => this.recordActivity());
    return this.state;
  }

  /** The server's view of the token (not counted as activity): a 401 ends the session through the api. */
  async #checkToken(): Promise<void> {
    const sid = this.#token?.sid;
    if (this.state !== 'signed_in' || !sid) return;
    const result = await readTokenInfo(this.#api, true);
    if (!result.ok || this.#token?.sid !== sid) return;
    this.#infoKnown = true;
    this.#user = result.info.user ?? this.#user;
    this.#idle.configure(result.info);
  }

  /** A 401: ends the session by its code; a revocation whose reason is not named waits briefly for the channel to say. */
  async #rejected(refusal: TokenRefusal): Promise<void> {
    if (this.state !== 'signed_in' || this.#signingOut) return;
    const reason = signOutReasonOf(refusal);
    if (reason) return this.#end(reason, null);
    const told = await this.#channel.probe(REVOCATION_PROBE_MS);
    this.#end(told?.reason ?? UNNAMED_REVOCATION, told?.initiatingClientId ?? null);
  }

  /** The server told the idle deadline of the current token (here, or in another tab with the same token). */
  #idleTold(deadline: number | null, announce: boolean): void {
    if (!this.#token) return;
    this.#idle.observe(deadline);
    if (announce && this.#token) this.#tabs?.post({ type: 'idle-deadline', sid: this.#token.sid, idleExpiresAt: deadline });
  }

  #onTab(m: TabMessage): void {
    const sid = this.#token?.sid;
    if (m.type === 'token-request' && this.state === 'signed_in' && this.#token) {
      this.#tabs?.post({ type: 'token-offer', to: m.from, token: this.#token });
    } else if (m.type === 'signed-in' && (this.state === 'signed_out' || this.state === 'ended') && isTokenRecord(m.token)) {
      void this.#adopt(m.token, false);
    } else if (m.type === 'signed-out' && sid && m.sid === sid && isSignOutReason(m.reason)) {
      this.#end(m.reason, m.initiatingClientId ?? null, { selfInitiated: !!m.selfInitiated, fromTab: true });
    } else if (m.type === 'idle-deadline' && sid && m.sid === sid && (typeof m.idleExpiresAt === 'number' || m.idleExpiresAt === null)) {
      this.#idleTold(m.idleExpiresAt, false);
    }
  }

  /** Ends the session: saves the screen to return to, stops everything, tells the app, the other tabs and the host page. */
  #end(reason: SignOutReason, initiatingClientId: string | null, opts: { selfInitiated?: boolean; fromTab?: boolean } = {}): void {
    if (!this.#state.can('ended')) return;
    const s = this.#s;
    const sid = this.#token?.sid;
    const idleTimeoutMinutes = this.#idle.timeoutMs == null ? null : this.#idle.timeoutMs / 60_000;
    const selfInitiated = opts.selfInitiated ?? ((reason === 'logout' || reason === 'universal_logout') && initiatingClientId === s.clientId);
    const message = describeSignOut({ reason, selfInitiated, idleTimeoutMinutes });
    saveReturnTo(s.storage, s.clientId, currentPath(s.location));
    this.#forget(null);
    this.#state.to('ended');
    this.#events.emit('signedOut', { reason, initiatingClientId, selfInitiated, message, idleTimeoutMinutes });
    if (sid && !opts.fromTab) this.#tabs?.post({ type: 'signed-out', sid, reason, initiatingClientId, selfInitiated });
    this.#host?.notifySignedOut(reason, message);
  }

  /** Drops the token and stops everything that used it; optionally moves to `next`. */
  #forget(next: LockstepState | null): void {
    this.#channel.stop();
    this.#idle.stop();
    this.#stopInput?.();
    this.#stopInput = null;
    this.#token = null;
    this.#user = null;
    this.#infoKnown = false;
    clearToken(this.#s.storage, this.#s.clientId);
    if (next) this.#state.to(next);
    this.#syncHeartbeat();
  }

  /** The fallback heartbeat runs exactly while signed in without a connected channel. */
  #syncHeartbeat(): void {
    // The channel and heartbeat are created after the state machine; early calls have nothing to sync.
    if (!this.#heartbeat || !this.#channel) return;
    this.#heartbeat.setActive(this.state === 'signed_in' && !this.#signingOut && !!this.#token && this.#channel.state !== 'connected');
  }
}
