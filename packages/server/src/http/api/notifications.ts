import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { Forbidden, NotFound, TooManyRequests, type ApiError } from '../../core/errors.ts';
import { LIMITS } from '../../core/limits.ts';
import type { Channel } from '../../notify/channel.ts';
import type { NotificationHub } from '../../notify/hub.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { rolesOf } from '../auth-guard.ts';
import { apiError, apiErrors, Iso, iso, NoContent } from '../schemas.ts';

const ChannelView = Type.Object({ id: Type.String(), connectUri: Type.String(), expires: Iso });
const Topic = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
const Topics = Type.Array(Topic, { maxItems: LIMITS.topicsPerChannel });
/** Genesys Cloud's `ChannelTopic`: a rejected topic says why (only with `ignoreErrors=true`; otherwise the call fails). */
const ChannelTopic = Type.Object({
  id: Type.String(), state: Type.Union([Type.Literal('Permitted'), Type.Literal('Rejected')]), rejectionReason: Type.Optional(Type.String()),
});
const Subscriptions = Type.Object({ entities: Type.Array(ChannelTopic) });
const SubscribeQuery = Type.Object({ ignoreErrors: Type.Optional(Type.Boolean({ description: 'true: rejected topics are answered, not failed' })) });
const ChannelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type ChannelRequest = { Params: Static<typeof ChannelParams> };
type SubscribeRequest = ChannelRequest & { Body: Static<typeof Topics>; Querystring: Static<typeof SubscribeQuery> };

const TOPIC = /^v2\.users\.([^.]+)\.(presence|routingstatus)$/;

async function ownChannel(hub: NotificationHub, request: FastifyRequest<ChannelRequest>): Promise<Channel> {
  const channel = await hub.find(request.params.id);
  if (!channel || channel.token.id !== request.auth.token.id) throw NotFound(`No channel ${request.params.id} for this token`);
  return channel;
}

/** Why a topic cannot be subscribed, or null when it can: it names a user of the caller's org, anyone but oneself needs the admin role. */
async function topicProblem(a: Authority, request: FastifyRequest, id: string, isAdmin: () => Promise<boolean>): Promise<ApiError | null> {
  const match = TOPIC.exec(id);
  if (!match) return NotFound(`Unknown topic ${id}; topics are v2.users.{id}.presence and v2.users.{id}.routingstatus`);
  const userId = match[1]!;
  if (userId === request.auth.userId) return null;
  if (!(await a.store.getUser(request.auth.orgId, userId))) return NotFound(`No user ${userId} in this organization`);
  if (!(await isAdmin())) return Forbidden(`Subscribing to another user's topics (${id}) requires the admin role`);
  return null;
}

/** The topics that may be subscribed, and the rejected ones with why; a rejection fails the call unless `ignoreErrors`. */
async function sortTopics(a: Authority, request: FastifyRequest<SubscribeRequest>) {
  let admin: Promise<boolean> | undefined;
  const isAdmin = () => (admin ??= rolesOf(a, request.auth).then((roles) => roles.includes('admin')));
  const permitted: string[] = [];
  const rejected: Static<typeof ChannelTopic>[] = [];
  for (const { id } of request.body) {
    const problem = await topicProblem(a, request, id, isAdmin);
    if (problem && !request.query.ignoreErrors) throw problem;
    if (problem) rejected.push({ id, state: 'Rejected', rejectionReason: problem.message });
    else permitted.push(id);
  }
  return { permitted, rejected };
}

const view = (channel: Channel, issuer: string) => ({
  id: channel.id, connectUri: `${issuer.replace(/^http/, 'ws')}/notifications/channels/${channel.id}`, expires: iso(channel.expiresAt),
});
const topicsOf = (channel: Channel, rejected: Static<typeof ChannelTopic>[] = []) => ({
  entities: [...[...channel.topics].map((id) => ({ id, state: 'Permitted' as const })), ...rejected],
});

/** The Genesys Cloud SDK's `AvailableTopic`: the topics a channel here can subscribe to (another user's needs the admin role). */
const AvailableTopics = Type.Object({
  entities: Type.Array(Type.Object({
    id: Type.String(), description: Type.String(), requiresCurrentUserOrPermission: Type.Boolean(), requiresPermissions: Type.Array(Type.String()),
    transports: Type.Array(Type.String()), topicParameters: Type.Array(Type.String()),
  })),
});
const AVAILABLE_TOPICS = {
  entities: [
    { id: 'v2.users.{id}.presence', description: "A user's presence (Available, Away, ..., Offline)" },
    { id: 'v2.users.{id}.routingstatus', description: "A user's routing status (OFF_QUEUE, IDLE, INTERACTING, ...)" },
  ].map((t) => ({ ...t, requiresCurrentUserOrPermission: true, requiresPermissions: [], transports: ['Websocket'], topicParameters: ['id'] })),
};

export function notificationRoutes(api: FastifyInstance, a: Authority, hub: NotificationHub) {
  api.get('/api/v2/notifications/availabletopics', { schema: { tags: ['Notifications'], summary: 'List the topics a channel can subscribe to', response: { 200: AvailableTopics, ...apiErrors } } }, async () => AVAILABLE_TOPICS);

  // Whether the channel still exists (the SDK's headNotificationsChannel): 200, or 404.
  api.head<ChannelRequest>('/api/v2/notifications/channels/:id', { config: { swagger: { exposeHeadRoute: true } }, schema: { tags: ['Notifications'], summary: 'Whether a channel of this token still exists', params: ChannelParams, response: { 200: NoContent, ...apiErrors } } },
    async (request, reply) => {
      await ownChannel(hub, request);
      return reply.code(200).header('content-length', 0).send();
    });

  api.post('/api/v2/notifications/channels', { schema: { tags: ['Notifications'], summary: 'Create a notification channel', response: { 200: ChannelView, ...apiErrors } } },
    async function createChannel(request) {
      const { token } = request.auth;
      if (token.userId) {
        let open = 0;
        for (const t of a.ledger.tokensOf(token.userId)) open += hub.channelsOf(t.id).length;
        if (open >= LIMITS.channelsPerUser) throw TooManyRequests(`This user already has ${open} notification channels open; close some first`);
      }
      return view(await hub.create(token), a.issuer());
    });

  api.get('/api/v2/notifications/channels', { schema: { tags: ['Notifications'], summary: "List this token's channels", response: { 200: Type.Object({ entities: Type.Array(ChannelView) }), ...apiErrors } } },
    async (request) => ({ entities: hub.channelsOf(request.auth.token.id).map((c) => view(c, a.issuer())) }));

  api.get<ChannelRequest>('/api/v2/notifications/channels/:id/subscriptions',
    { schema: { tags: ['Notifications'], summary: "List a channel's subscriptions", params: ChannelParams, response: { 200: Subscriptions, ...apiErrors } } },
    async (request) => topicsOf(await ownChannel(hub, request)));

  const subscribe = (summary: string) => ({ schema: { tags: ['Notifications'], summary, params: ChannelParams, querystring: SubscribeQuery, body: Topics, response: { 200: Subscriptions, ...apiErrors } } });

  api.put<SubscribeRequest>('/api/v2/notifications/channels/:id/subscriptions', subscribe('Replace the subscriptions of a channel'), async function replaceSubscriptions(request) {
    const channel = await ownChannel(hub, request);
    const { permitted, rejected } = await sortTopics(a, request);
    await hub.setTopics(channel, permitted);
    return topicsOf(channel, rejected);
  });

  api.post<SubscribeRequest>('/api/v2/notifications/channels/:id/subscriptions', subscribe('Add subscriptions to a channel'), async function addSubscriptions(request) {
    const channel = await ownChannel(hub, request);
    const { permitted, rejected } = await sortTopics(a, request);
    await hub.setTopics(channel, [...channel.topics, ...permitted]);
    return topicsOf(channel, rejected);
  });

  api.delete<ChannelRequest>('/api/v2/notifications/channels/:id/subscriptions',
    { schema: { tags: ['Notifications'], summary: "Remove all of a channel's subscriptions", params: ChannelParams, response: { 204: NoContent, ...apiErrors } } },
    async (request, reply) => {
      await hub.setTopics(await ownChannel(hub, request), []);
      return reply.code(204).send();
    });
}

const CHANNEL_SOCKET_DESCRIPTION = 'Connect with a WebSocket client (Upgrade: websocket). Messages are `{"topicName","eventBody"}`: '
  + '`channel.metadata` heartbeats every 30 s and answers `{"message":"ping"}`; `v2.system.token_revoked` `{reason, initiatingClientId?, at}` '
  + 'when the token ends. Close codes 4000-4999 are final: 4001 token ended, 4002 channel removed, 4003 token expired, 4004 unknown channel; '
  + 'below 4000: reconnect with backoff. Never activity.';

/**
 * The WebSocket end of a channel, on whichever node the connection reaches. The channel id is the capability;
 * nothing here counts as activity.
 */
export function channelSocketRoute(app: FastifyInstance, hub: NotificationHub) {
  const listen = channelListeners(hub, app.log);
  app.get<ChannelRequest>('/notifications/channels/:id', { websocket: true, schema: { tags: ['Notifications'], summary: 'The WebSocket of a notification channel (connectUri)', description: CHANNEL_SOCKET_DESCRIPTION, response: { 101: Type.Null({ description: 'Switching Protocols: the channel socket' }), 404: apiError('Not a WebSocket upgrade request') }, params: ChannelParams } }, async (socket, request) => {
    await hub.find(request.params.id).catch((err) => request.log.warn({ err, reqId: request.id }, 'reading a shared channel failed'));
    if (socket.readyState !== socket.OPEN) return; // gone while the channel was looked up
    const channel = hub.connect(request.params.id, socket);
    if (!channel) return;
    releaseUpgrade(request.raw);
    listen(socket, channel, request.id);
  });
}

/** A channel socket failed: a malformed frame (ws's WS_ERR_* codes) is the client's fault, not for the error log. */
export function channelSocketFailed(error: Error, socket: WebSocket, log: FastifyBaseLogger, reqId: string): void {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) log.debug({ err: error.message, reqId }, 'malformed WebSocket frame');
  else log.error({ err: error, reqId }, 'channel socket failed');
  socket.terminate();
}

/**
 * The WebSocket plugin routes an upgrade through Fastify with a stand-in response, which stays the TCP socket's
 * current message: through it (and Fastify's finish listener on it) the upgrade's request and reply, about 2 KB with
 * their headers, would live as long as the channel. Detached, they go with the first GC.
 */
function releaseUpgrade(request: IncomingMessage): void {
  const tcp = request.socket as Socket & { _httpMessage?: ServerResponse | null };
  tcp._httpMessage?.detachSocket(tcp);
}

/** What a channel socket's shared listeners need of it, kept on the socket itself. */
interface OpenChannelSocket extends WebSocket {
  [CHANNEL]: Channel;
  [REQUEST_ID]: string;
}
const CHANNEL = Symbol('channel');
const REQUEST_ID = Symbol('upgrade request id');

/**
 * The open sockets' listeners: one set per server, shared by every socket (which the emitter passes as `this`), so a
 * channel costs no closures. They replace the WebSocket plugin's error listener, whose closure would keep the
 * upgrade's request and reply as long as the socket.
 */
function channelListeners(hub: NotificationHub, log: FastifyBaseLogger) {
  function onError(this: WebSocket, error: Error) {
    channelSocketFailed(error, this, log, (this as OpenChannelSocket)[REQUEST_ID]);
  }
  function onMessage(this: WebSocket, data: Buffer) {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if ((message as { message?: unknown })?.message === 'ping') this.send(PONG);
  }
  function onClose(this: WebSocket) {
    hub.disconnected((this as OpenChannelSocket)[CHANNEL], this);
  }
  return function listen(socket: WebSocket, channel: Channel, requestId: string): void {
    const open = socket as OpenChannelSocket;
    open[CHANNEL] = channel;
    open[REQUEST_ID] = requestId;
    socket.removeAllListeners('error');
    socket.on('error', onError).on('message', onMessage).on('close', onClose);
  };
}
const PONG = JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'pong' } });
