import { Redis, type RedisOptions } from 'ioredis';
import { REVOKE_REASONS, ROUTING_STATUSES, SYSTEM_PRESENCES } from '../core/records.ts';
import type { Bus, BusErrorKind, LockstepEvent } from './events.ts';
import { LIMITS } from '../core/limits.ts';
import { maskUrl } from '../log-options.ts';

export interface RedisBusLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisBusOptions {
  /** Must be unique per process: messages carrying this node's id are taken for its own echo and ignored. */
  nodeId: string;
  channel?: string;
  log?: RedisBusLog;
}

const DEFAULT_CHANNEL = 'lockstep:events';
const STARTUP_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;
const PUBLISH_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 500;
/** Events per Redis message this node sends; what it accepts allows some room for another version's choice. */
const EVENTS_PER_MESSAGE = 500;
const MAX_EVENTS_PER_MESSAGE = 2000;

type EventHandler = (event: LockstepEvent) => void;
type StateListener = (connected: boolean) => void;

/**
 * Cluster bus: events go to this process's handlers at once and to every other node through Redis pub/sub.
 * Pub/sub is fire-and-forget, so a node must treat `connected` turning false as "I may have missed events"
 * and catch up from the store once it turns true again.
 */
export class RedisBus implements Bus {
  readonly #nodeId: string;
  readonly #channel: string;
  readonly #log: RedisBusLog | undefined;
  readonly #redisAddress: string;
  // Two connections: one in subscriber mode only receives, so publishing needs its own.
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #handlers = new Set<EventHandler>();
  readonly #stateListeners = new Set<StateListener>();
  readonly #errorListeners = new Set<(kind: BusErrorKind) => void>();
  #publisherReady = false;
  #subscribed = false;
  #connected = false;
  #lastError: string | undefined;
  #closing: Promise<void> | undefined;
  #outgoing: LockstepEvent[] = [];
  #sent: Settlement | null = null;
  /** Starts every message this node sends, so its own echo is recognised without parsing it. */
  readonly #ownPrefix: string;

  static async connect(url: string, opts: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(url, opts);
    try {
      await bus.#waitUntilConnected(STARTUP_TIMEOUT_MS);
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  private constructor(url: string, opts: RedisBusOptions) {
    this.#nodeId = opts.nodeId;
    this.#channel = opts.channel ?? DEFAULT_CHANNEL;
    this.#ownPrefix = JSON.stringify({ from: this.#nodeId }).slice(0, -1) + ',';
    this.#log = opts.log;
    this.#redisAddress = maskUrl(url);

    const reconnecting: RedisOptions = {
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      connectTimeout: CONNECT_TIMEOUT_MS,
    };
    this.#publisher = new Redis(url, {
      ...reconnecting,
      // Fail publishes at once while disconnected (or after a bound when Redis hangs) so callers can fall
      // back, instead of queueing them to be sent late; maxRetriesPerRequest 0 fails in-flight ones on a drop.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: PUBLISH_TIMEOUT_MS,
      autoResendUnfulfilledCommands: false,
      // Publishes of one turn of the event loop (an idle sweep's, concurrent logouts') leave in one write.
      enableAutoPipelining: true,
    });
    // ioredis' autoResubscribe would restore the subscription too, but it reports `ready` before Redis has
    // acknowledged the SUBSCRIBE. Subscribing ourselves lets `connected` mean "events are reaching us".
    this.#subscriber = new Redis(url, { ...reconnecting, autoResubscribe: false });

    const rememberError = (err: Error) => void (this.#lastError = err.message);
    this.#publisher.on('error', rememberError);
    this.#subscriber.on('error', rememberError);
    this.#publisher.on('ready', () => this.#setPublisherReady(true));
    this.#publisher.on('close', () => this.#setPublisherReady(false));
    this.#subscriber.on('ready', () => this.#subscribe());
    this.#subscriber.on('close', () => this.#setSubscribed(false));
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#receive(message);
    });
  }

  /** True while both connections are up and the subscription is confirmed. */
  get connected(): boolean {
    return this.#connected;
  }

  onError(listener: (kind: BusErrorKind) => void): () => void {
    this.#errorListeners.add(listener);
    return () => void this.#errorListeners.delete(listener);
  }

  #failed(kind: BusErrorKind) {
    for (const listener of this.#errorListeners) listener(kind);
  }

  /** Called with the new value on every change of `connected`. Returns the unsubscribe function. */
  onStateChange(listener: StateListener): () => void {
    this.#stateListeners.add(listener);
    return () => void this.#stateListeners.delete(listener);
  }

  /**
   * Runs this process's handlers first, then resolves once Redis accepted the message; rejects within ~2 s when it can't.
   * Events published in the same synchronous stretch (an idle sweep's announcements) travel as one message.
   */
  publish(event: LockstepEvent): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('RedisBus is closed'));
    for (const handler of this.#handlers) handler(event);
    if (!this.#outgoing.length) queueMicrotask(() => this.#send());
    this.#outgoing.push(event);
    return (this.#sent ??= settlement()).promise;
  }

  #send() {
    const { resolve, reject } = this.#sent!;
    const events = this.#outgoing.splice(0);
    this.#sent = null;
    const messages: string[] = [];
    for (let i = 0; i < events.length; i += EVENTS_PER_MESSAGE) {
      messages.push(JSON.stringify({ from: this.#nodeId, events: events.slice(i, i + EVENTS_PER_MESSAGE) }));
    }
    Promise.all(messages.map((m) => this.#publisher.publish(this.#channel, m))).then(
      () => resolve(),
      (err: Error) => {
        this.#failed('publish_failed');
        reject(new Error(`Redis bus publish failed: ${err.message}`, { cause: err }));
      },
    );
  }

  subscribe(handler: EventHandler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown() {
    this.#connected = false; // no state listener hears this: closing is not an outage
    this.#handlers.clear();
    this.#stateListeners.clear();
    this.#errorListeners.clear();
    await Promise.allSettled([this.#publisher, this.#subscriber].map((conn) => (conn.status === 'ready' ? conn.quit() : conn.disconnect())));
  }

  #subscribe() {
    this.#subscriber.subscribe(this.#channel).then(
      () => this.#setSubscribed(this.#subscriber.status === 'ready'),
      (err: Error) => {
        this.#lastError = err.message;
        if (this.#closing) return;
        this.#failed('subscribe_failed');
        this.#log?.warn({ redis: this.#redisAddress, channel: this.#channel, error: err.message }, 'Redis bus could not subscribe');
      },
    );
  }

  #receive(message: string) {
    if (message.startsWith(this.#ownPrefix)) return; // our own publish; local handlers already ran
    const parsed = parseEnvelope(message);
    // Never log the message itself: events carry token hashes.
    const dropped = (problem: string) => {
      this.#failed('malformed_message');
      this.#log?.warn({ channel: this.#channel, bytes: message.length, problem }, 'Redis bus dropped a malformed message');
    };
    if ('problem' in parsed) return dropped(parsed.problem);
    if (parsed.from === this.#nodeId) return;
    for (const event of parsed.events) {
      if ('problem' in event) {
        dropped(event.problem);
        continue;
      }
      for (const handler of this.#handlers) {
        // A throw must not escape into ioredis' reply parsing, nor keep the event from the other handlers.
        try {
          handler(event);
        } catch (err) {
          this.#failed('handler_threw');
          this.#log?.warn({ eventType: event.type, error: (err as Error).message }, 'Redis bus handler threw');
        }
      }
    }
  }

  #setPublisherReady(ready: boolean) {
    this.#publisherReady = ready;
    this.#updateConnected();
  }

  #setSubscribed(subscribed: boolean) {
    this.#subscribed = subscribed;
    this.#updateConnected();
  }

  #updateConnected() {
    const connected = this.#publisherReady && this.#subscribed;
    if (connected === this.#connected || this.#closing) return;
    this.#connected = connected;
    const context = { redis: this.#redisAddress, channel: this.#channel, nodeId: this.#nodeId };
    if (connected) this.#log?.info(context, 'Redis bus connected');
    else {
      this.#failed('disconnected');
      this.#log?.warn({ ...context, error: this.#lastError }, 'Redis bus disconnected; events from other nodes may be missed until it reconnects');
    }
    for (const listener of this.#stateListeners) {
      try {
        listener(connected);
      } catch (err) {
        this.#log?.warn({ error: (err as Error).message }, 'Redis bus state listener threw');
      }
    }
  }

  #waitUntilConnected(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stopListening();
        const cause = this.#lastError ? ` (${this.#lastError})` : '';
        reject(new Error(`Redis bus: ${this.#redisAddress} not reachable within ${timeoutMs} ms${cause}`));
      }, timeoutMs);
      const stopListening = this.onStateChange((connected) => {
        if (!connected) return;
        clearTimeout(timer);
        stopListening();
        resolve();
      });
    });
  }
}

interface Settlement { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void }

function settlement(): Settlement {
  const s = {} as Settlement;
  s.promise = new Promise<void>((resolve, reject) => Object.assign(s, { resolve, reject }));
  return s;
}

// --- validating what arrives from Redis: it crosses a process boundary, so its shape is checked, not trusted ---

type Envelope = { from: string; events: (LockstepEvent | { problem: string })[] };
type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isStringOrNull = (value: unknown) => value === null || isString(value);
const isTimestamp = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
const isOneOf = (values: readonly string[], value: unknown) => isString(value) && values.includes(value);
const isSequence = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
const isRevokedToken = (value: unknown) => isObject(value) && isString(value.id) && isString(value.hash) && isString(value.clientId);

const HAS_REQUIRED_FIELDS: { [Type in LockstepEvent['type']]: (event: Fields) => boolean } = {
  'token.revoked': (event) =>
    isString(event.orgId) &&
    isStringOrNull(event.userId) &&
    Array.isArray(event.tokens) &&
    event.tokens.every(isRevokedToken) &&
    isOneOf(REVOKE_REASONS, event.reason) &&
    isStringOrNull(event.initiatingClientId) &&
    isTimestamp(event.at),
  'presence.changed': (event) =>
    isString(event.orgId) &&
    isString(event.userId) &&
    isOneOf(SYSTEM_PRESENCES, event.presence) &&
    isOneOf(ROUTING_STATUSES, event.routingStatus) &&
    isTimestamp(event.at),
  'cluster.log': (event) => isString(event.nodeId) && isSequence(event.seq),
  'cluster.applied': (event) => isString(event.nodeId) && isSequence(event.seq),
  'channel.topics': (event) =>
    isString(event.channelId) && Array.isArray(event.topics) && event.topics.length <= LIMITS.topicsPerChannel && event.topics.every(isString),
};

function parseEnvelope(message: string): Envelope | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { problem: 'not JSON' };
  }
  if (!isObject(value) || !isString(value.from) || !Array.isArray(value.events)) return { problem: 'not a { from, events } envelope' };
  if (value.events.length > MAX_EVENTS_PER_MESSAGE) return { problem: `more than ${MAX_EVENTS_PER_MESSAGE} events` };
  return { from: value.from, events: value.events.map(parseEvent) };
}

function parseEvent(event: unknown): LockstepEvent | { problem: string } {
  if (!isObject(event)) return { problem: 'an event that is not an object' };
  const { type } = event;
  if (!isString(type) || !Object.hasOwn(HAS_REQUIRED_FIELDS, type)) return { problem: 'unknown event type' };
  if (!HAS_REQUIRED_FIELDS[type as LockstepEvent['type']](event)) return { problem: `${type} event with missing or invalid fields` };
  return event as LockstepEvent;
}
