import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus, LockstepEvent } from '../bus/events.ts';
import type { RevokeReason } from '../core/records.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { judgeToken, type LiveToken } from '../core/live-token.ts';
import { LIFETIMES } from '../core/lifetimes.ts';
import { presenceDefinitionId } from '../core/presence-definitions.ts';
import { CLOSE, HEARTBEAT_MS, MAX_CHANNELS_PER_TOKEN, send, type Channel, type ChannelSocket } from './channel.ts';

/**
 * A client reconnecting to a channel whose token ended is told why for this long (as long as the revoked
 * token itself stays in memory); later it gets 4004 and its token check answers the 401 code.
 */
const ENDED_KEPT_MS = LIFETIMES.revokedTokenInMemoryMs;
const MAX_ENDED = 100_000;

/** The reasons a channel client is told (DESIGN.md); internal reasons map to the nearest one. */
const CHANNEL_REASON: Record<RevokeReason, string> = {
  logout: 'logout', universal_logout: 'universal_logout', idle_timeout: 'idle_timeout', admin_logoff: 'admin_logoff',
  global_revocation: 'global_revocation', revocation: 'logout', refresh_reuse: 'logout', user_deleted: 'admin_logoff', client_deleted: 'admin_logoff',
};

/** Why a token that is no longer live ended: its revocation, an idle deadline not yet swept, or (null) plain expiry. */
function whyEnded(token: LiveToken, now: number): RevokeReason | null {
  if (token.revokedAt != null) return token.revokeReason;
  const verdict = judgeToken(token, now);
  return !verdict.live && verdict.problem === 'idle_timeout' ? 'idle_timeout' : null;
}

/**
 * Notification channels (Genesys style): each bound to the token that created it. When that
 * token ends, for whatever reason, every one of its channels gets `v2.system.token_revoked`
 * and is closed with 4001. Channel traffic never counts as API activity.
 */
export class NotificationHub {
  readonly #channels = new Map<string, Channel>();
  readonly #byToken = new Map<string, Channel[]>();
  readonly #byTopic = new Map<string, Set<Channel>>();
  /** Channels ended by their token, kept a while so a client that missed the event learns why on reconnect. */
  readonly #ended = new Map<string, { reason: RevokeReason | null; initiatingClientId: string | null; at: number }>();
  #heartbeat: NodeJS.Timeout | null = null;
  #unsubscribe: () => void;
  #closed = false;

  constructor(
    private readonly deps: {
      bus: Bus; clock: Clock; log: Logger;
      /** Where channels are shared with the other nodes: a socket or a subscription call may arrive at any of them. */
      store: Pick<Store, 'saveChannel' | 'getChannel' | 'setChannelTopics' | 'deleteChannel'>;
      /** The token a shared channel belongs to, as this node's ledger knows it. */
      tokenByHash: (hash: string) => Promise<LiveToken | null>;
    },
  ) {
    this.#unsubscribe = deps.bus.subscribe((event) => this.#onEvent(event));
  }

  get size() {
    return this.#channels.size;
  }

  start(): void {
    this.#heartbeat ??= setInterval(() => this.heartbeat(), HEARTBEAT_MS).unref();
  }

  /** A new channel of `token`, shared through the store before it is answered. */
  async create(token: LiveToken): Promise<Channel> {
    const { channel, removed } = this.#add(token);
    if (removed) await this.deps.store.deleteChannel(removed.id);
    await this.deps.store.saveChannel({
      id: channel.id, orgId: token.orgId, userId: token.userId, tokenId: token.id, tokenHash: token.hash, topics: [],
      createdAt: channel.createdAt, expiresAt: channel.expiresAt,
    });
    return channel;
  }

  /** The channel, from this node's memory or, when another node created it, from the store. */
  async find(id: string): Promise<Channel | undefined> {
    const here = this.#channels.get(id);
    if (here) return here;
    const shared = await this.deps.store.getChannel(id);
    const token = shared && (await this.deps.tokenByHash(shared.tokenHash));
    if (!shared || !token || token.id !== shared.tokenId) return undefined;
    if (this.#channels.has(id)) return this.#channels.get(id);
    const channel: Channel = { id, token, topics: new Set(), socket: null, createdAt: shared.createdAt, expiresAt: shared.expiresAt };
    this.#register(channel);
    this.#setTopicsHere(channel, shared.topics);
    return channel;
  }

  #add(token: LiveToken): { channel: Channel; removed?: Channel } {
    const channel: Channel = {
      id: randomBytes(16).toString('base64url'), token, topics: new Set(), socket: null,
      createdAt: this.deps.clock.now(), expiresAt: token.expiresAt,
    };
    const mine = this.#byToken.get(token.id) ?? [];
    let removed: Channel | undefined;
    if (mine.length >= MAX_CHANNELS_PER_TOKEN) {
      removed = mine.find((c) => !c.socket) ?? mine[0]!;
      send(removed.socket, { topicName: 'v2.system.socket_closing', eventBody: { reason: 'channel_limit' } });
      this.#remove(removed, [CLOSE.channelRemoved, 'channel limit reached']);
    }
    this.#register(channel);
    return { channel, removed };
  }

  #register(channel: Channel): void {
    this.#channels.set(channel.id, channel);
    this.#byToken.set(channel.token.id, [...(this.#byToken.get(channel.token.id) ?? []), channel]);
  }

  channelsOf(tokenId: string): readonly Channel[] {
    return this.#byToken.get(tokenId) ?? [];
  }

  /** Replaces the channel's topics here, in the store, and on the node holding its socket. */
  async setTopics(channel: Channel, topics: Iterable<string>): Promise<void> {
    const list = [...new Set(topics)];
    this.#setTopicsHere(channel, list);
    await this.deps.store.setChannelTopics(channel.id, list);
    await this.deps.bus.publish({ type: 'channel.topics', channelId: channel.id, topics: list }).catch((err) =>
      this.deps.log.warn({ err }, 'bus publish failed: a socket of this channel on another node keeps its old topics until it reconnects'));
  }

  #setTopicsHere(channel: Channel, topics: Iterable<string>): void {
    for (const topic of channel.topics) this.#byTopic.get(topic)?.delete(channel);
    channel.topics = new Set(topics);
    for (const topic of channel.topics) {
      let set = this.#byTopic.get(topic);
      if (!set) this.#byTopic.set(topic, (set = new Set()));
      set.add(channel);
    }
  }

  /** Tokens another node ended, learnt from the cluster log: their channels end here (if the bus has not ended them already). */
  tokensEnded(tokens: readonly LiveToken[]): void {
    for (const t of tokens) {
      for (const channel of [...(this.#byToken.get(t.id) ?? [])]) this.#endForToken(channel, t.revokeReason, null, t.revokedAt ?? this.deps.clock.now());
    }
  }

  /** A WebSocket connects to a channel: a newer connection replaces an older one. */
  connect(channelId: string, socket: ChannelSocket): Channel | null {
    if (this.#closed) {
      socket.close(CLOSE.goingAway, 'server shutting down');
      return null;
    }
    const channel = this.#channels.get(channelId);
    const ended = this.#ended.get(channelId);
    if (!channel && ended) {
      this.#tell(socket, ended.reason, ended.initiatingClientId, ended.at);
      return null;
    }
    if (!channel) {
      socket.close(CLOSE.unknownChannel, 'unknown channel');
      return null;
    }
    const now = this.deps.clock.now();
    if (!judgeToken(channel.token, now).live) {
      channel.socket = socket;
      this.#endForToken(channel, whyEnded(channel.token, now), null, channel.token.revokedAt ?? now);
      return null;
    }
    if (channel.socket && channel.socket !== socket) channel.socket.close(CLOSE.channelRemoved, 'replaced by a newer connection');
    channel.socket = socket;
    return channel;
  }

  disconnected(channel: Channel, socket: ChannelSocket): void {
    if (channel.socket === socket) channel.socket = null;
  }

  /** `channel.metadata` to every open socket; also ends channels whose token died without an event (plain expiry). */
  heartbeat(): void {
    const now = this.deps.clock.now();
    for (const channel of [...this.#channels.values()]) {
      if (!judgeToken(channel.token, now).live) this.#endForToken(channel, whyEnded(channel.token, now), null, channel.token.revokedAt ?? now);
      else send(channel.socket, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    }
  }

  /**
   * Shutdown: every socket is told and closed with 1001, so its client reconnects (to another node, or to this
   * one after its restart); the channels stay in the store, so the same connectUri works there.
   */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const channel of [...this.#channels.values()]) {
      send(channel.socket, { topicName: 'v2.system.socket_closing', eventBody: { reason: 'server_shutdown' } });
      this.#remove(channel, [CLOSE.goingAway, 'server shutting down']);
    }
  }

  #onEvent(event: LockstepEvent): void {
    if (event.type === 'token.revoked') {
      for (const t of event.tokens) {
        for (const channel of [...(this.#byToken.get(t.id) ?? [])]) this.#endForToken(channel, event.reason, event.initiatingClientId, event.at);
      }
    } else if (event.type === 'channel.topics') {
      const channel = this.#channels.get(event.channelId);
      if (channel) this.#setTopicsHere(channel, event.topics);
    } else if (event.type === 'presence.changed') {
      const at = new Date(event.at).toISOString();
      this.#publish(`v2.users.${event.userId}.presence`, {
        id: event.userId, source: 'PURECLOUD', presenceDefinition: { id: presenceDefinitionId(event.presence), systemPresence: event.presence }, modifiedDate: at,
      });
      this.#publish(`v2.users.${event.userId}.routingstatus`, { id: event.userId, routingStatus: { status: event.routingStatus, startTime: at } });
    }
  }

  #publish(topicName: string, eventBody: Record<string, unknown>): void {
    for (const channel of this.#byTopic.get(topicName) ?? []) send(channel.socket, { topicName, eventBody });
  }

  /** Ended channels are kept in the order they ended: the oldest go first. */
  #forgetEndedBefore(cutoff: number): void {
    for (const [id, e] of this.#ended) {
      if (e.at >= cutoff) break;
      this.#ended.delete(id);
    }
  }

  /** Tells the channel why its token ended, then closes it for good. A null reason is plain expiry. */
  #endForToken(channel: Channel, revokeReason: RevokeReason | null, initiatingClientId: string | null, at: number): void {
    this.#remove(channel, null);
    this.#forgetEndedBefore(this.deps.clock.now() - ENDED_KEPT_MS);
    if (this.#ended.size >= MAX_ENDED) this.#ended.delete(this.#ended.keys().next().value!);
    this.#ended.set(channel.id, { reason: revokeReason, initiatingClientId, at });
    this.#tell(channel.socket, revokeReason, initiatingClientId, at);
    channel.socket = null;
  }

  #tell(socket: ChannelSocket | null, revokeReason: RevokeReason | null, initiatingClientId: string | null, at: number): void {
    const reason = revokeReason && CHANNEL_REASON[revokeReason];
    if (reason) {
      send(socket, {
        topicName: 'v2.system.token_revoked',
        eventBody: { reason, ...(initiatingClientId ? { initiatingClientId } : {}), at: new Date(at).toISOString() },
      });
      socket?.close(CLOSE.tokenRevoked, `token revoked: ${reason}`);
    } else {
      send(socket, { topicName: 'v2.system.socket_closing', eventBody: { reason: 'token_expired' } });
      socket?.close(CLOSE.tokenExpired, 'token expired');
    }
  }

  /** Forgets a channel; closes its socket with `close` when given (otherwise the caller does). */
  #remove(channel: Channel, close: [code: number, reason: string] | null): void {
    this.#channels.delete(channel.id);
    const rest = (this.#byToken.get(channel.token.id) ?? []).filter((c) => c !== channel);
    if (rest.length) this.#byToken.set(channel.token.id, rest);
    else this.#byToken.delete(channel.token.id);
    for (const topic of channel.topics) this.#byTopic.get(topic)?.delete(channel);
    if (close) {
      channel.socket?.close(...close);
      channel.socket = null;
    }
  }
}
