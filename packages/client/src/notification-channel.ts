import type { AuthorizedApi } from './api.ts';
import { fullJitterDelay, RECONNECT_BASE_MS, RECONNECT_CAP_MS } from './backoff.ts';
import { ChannelSocket, type ChannelMessage } from './channel-socket.ts';
import { closeAction } from './close-codes.ts';
import { LockstepError } from './errors.ts';
import { isSignOutReason } from './sign-out-messages.ts';
import type { Clock, LockstepEvents, SignOutReason, WebSocketConstructor } from './types.ts';

export interface TokenEnd {
  reason: SignOutReason;
  initiatingClientId: string | null;
}

/** A revocation whose reason the server did not name, or named with a reason this SDK does not know. */
export const UNNAMED_REVOCATION: SignOutReason = 'revocation';

export interface ChannelDeps {
  api: AuthorizedApi;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  random: () => number;
  onState(event: LockstepEvents['channel']): void;
  onNotification(message: ChannelMessage): void;
  /**
   * The channel closed for good because of the token: with the reason the server gave, or null when it did not say
   * (4001 without `token_revoked`, or a final close code this SDK does not know): then check the token. Never reconnects after.
   */
  onTokenEnded(end: TokenEnd | null): void;
}

type Phase = 'idle' | LockstepEvents['channel']['state'];
const CHANNELS_PATH = '/api/v2/notifications/channels';

/**
 * The notification channel as a state machine: idle → connecting → connected ⇄ reconnecting → closed.
 * Transport loss (codes below 4000, errors) reconnects with full-jitter backoff; 4004 creates a new channel;
 * every other code of the final range 4000–4999 and `v2.system.token_revoked` close it for good (close-codes.ts).
 */
export class NotificationChannel {
  #phase: Phase = 'idle';
  #info: { id: string; connectUri: string } | null = null;
  #socket: ChannelSocket | null = null;
  #attempt = 0;
  #retry: { timer: unknown; fresh: boolean } | null = null;
  #creating: Promise<boolean> | null = null;
  #topics = new Set<string>();
  #ended: { end: TokenEnd | null } | null = null;
  #probes = new Set<(end: TokenEnd | null) => void>();
  /** Bumped by start/stop/end, so continuations of an older run do nothing. */
  #run = 0;

  constructor(private readonly deps: ChannelDeps) {}

  get state(): Phase {
    return this.#phase;
  }

  start(): void {
    if (this.#phase !== 'idle' && this.#phase !== 'closed') return;
    this.#ended = null;
    this.#attempt = 0;
    const run = ++this.#run;
    this.#set('connecting');
    void this.#open(run, true);
  }

  /** Closes the channel for good (sign-out); forgets its subscriptions. */
  stop(): void {
    this.#halt();
    this.#info = null;
    this.#topics.clear();
    this.#settleProbes(null);
  }

  async subscribe(topics: string[]): Promise<void> {
    const added = [...new Set(topics)].filter((t) => !this.#topics.has(t));
    for (const t of added) this.#topics.add(t);
    if (this.#creating) await this.#creating;
    const info = this.#info;
    if (!info || !added.length) return; // a channel created later subscribes to every topic
    const response = await this.deps.api.call(`${CHANNELS_PATH}/${encodeURIComponent(info.id)}/subscriptions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(added.map((id) => ({ id }))),
    });
    if (!response.ok) {
      for (const t of added) this.#topics.delete(t);
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new LockstepError('subscription_failed', body?.message ?? `Subscribing failed with HTTP ${response.status}`);
    }
  }

  /**
   * Why did the token end? Waits up to `timeoutMs` for the channel to say; a channel waiting to reconnect
   * reconnects at once (the server tells a late connection to an ended channel why it ended).
   */
  probe(timeoutMs: number): Promise<TokenEnd | null> {
    if (this.#ended) return Promise.resolve(this.#ended.end);
    if (this.#phase === 'idle' || this.#phase === 'closed') return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (end: TokenEnd | null) => {
        this.deps.clock.clearTimeout(timer);
        this.#probes.delete(done);
        resolve(end);
      };
      const timer = this.deps.clock.setTimeout(() => done(null), timeoutMs);
      this.#probes.add(done);
      if (this.#retry && !this.#retry.fresh && this.#info) {
        this.deps.clock.clearTimeout(this.#retry.timer);
        this.#retry = null;
        void this.#open(this.#run, false);
      }
    });
  }

  async #open(run: number, fresh: boolean): Promise<void> {
    if (fresh || !this.#info) {
      const created = await this.#create(run);
      if (run !== this.#run) return;
      if (!created) return this.#scheduleRetry(true);
    }
    try {
      this.#socket = new ChannelSocket(this.deps.WebSocket, this.#info!.connectUri, this.deps.clock, {
        onOpen: () => this.#opened(run),
        onMessage: (m) => this.#message(run, m),
        onClose: (code) => this.#closed(run, code),
      });
    } catch {
      this.#scheduleRetry(false);
    }
  }

  /** POST a new channel, then (re)subscribe it to every topic. */
  async #create(run: number): Promise<boolean> {
    const creating = (async () => {
      try {
        const { body } = await this.deps.api.json<{ id?: string; connectUri?: string }>(CHANNELS_PATH, { method: 'POST' });
        if (run !== this.#run || !body?.id || !body.connectUri) return false;
        this.#info = { id: body.id, connectUri: body.connectUri };
        if (this.#topics.size) {
          const topics = [...this.#topics].map((id) => ({ id }));
          await this.deps.api.call(`${CHANNELS_PATH}/${encodeURIComponent(body.id)}/subscriptions`, {
            method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(topics),
          }).catch(() => undefined);
        }
        return true;
      } catch {
        return false;
      }
    })();
    this.#creating = creating;
    try {
      return await creating;
    } finally {
      if (this.#creating === creating) this.#creating = null;
    }
  }

  #opened(run: number): void {
    if (run !== this.#run) return;
    this.#attempt = 0;
    this.#set('connected');
  }

  #message(run: number, m: ChannelMessage): void {
    if (run !== this.#run) return;
    if (m.topicName === 'v2.system.token_revoked') {
      const { reason, initiatingClientId } = m.eventBody;
      this.#tokenEnded({
        reason: isSignOutReason(reason) ? reason : UNNAMED_REVOCATION,
        initiatingClientId: typeof initiatingClientId === 'string' ? initiatingClientId : null,
      });
    } else if (m.topicName !== 'channel.metadata' && m.topicName !== 'v2.system.socket_closing') {
      this.deps.onNotification(m);
    }
  }

  #closed(run: number, code: number): void {
    if (run !== this.#run) return;
    this.#socket = null;
    switch (closeAction(code)) {
      case 'token_ended':
      case 'check_token':
        return this.#tokenEnded(null);
      case 'token_expired':
        return this.#tokenEnded({ reason: 'expired', initiatingClientId: null });
      case 'stay_closed':
        this.#info = null;
        this.#halt();
        return this.#settleProbes(null);
      case 'new_channel':
        this.#info = null;
        return this.#scheduleRetry(true);
      case 'reconnect':
        return this.#scheduleRetry(false);
    }
  }

  #tokenEnded(end: TokenEnd | null): void {
    if (this.#ended) return;
    this.#halt();
    this.#ended = { end };
    this.#settleProbes(end);
    this.deps.onTokenEnded(end);
  }

  #scheduleRetry(fresh: boolean): void {
    this.#attempt += 1;
    const delayMs = fullJitterDelay(this.#attempt - 1, RECONNECT_BASE_MS, RECONNECT_CAP_MS, this.deps.random);
    const run = this.#run;
    const timer = this.deps.clock.setTimeout(() => {
      this.#retry = null;
      void this.#open(run, fresh);
    }, delayMs);
    this.#retry = { timer, fresh };
    this.#set('reconnecting', { attempt: this.#attempt, delayMs });
  }

  /** Stops everything of the current run: timers, socket; state `closed`. */
  #halt(): void {
    this.#run += 1;
    if (this.#retry) this.deps.clock.clearTimeout(this.#retry.timer);
    this.#retry = null;
    this.#socket?.close();
    this.#socket = null;
    if (this.#phase !== 'idle' && this.#phase !== 'closed') this.#set('closed');
  }

  #settleProbes(end: TokenEnd | null): void {
    for (const done of [...this.#probes]) done(end);
  }

  #set(phase: Exclude<Phase, 'idle'>, extra: { attempt?: number; delayMs?: number } = {}): void {
    if (phase === this.#phase && phase !== 'reconnecting') return;
    this.#phase = phase;
    this.deps.onState({ state: phase, ...extra });
  }
}
