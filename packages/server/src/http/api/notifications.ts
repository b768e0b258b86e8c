import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { Forbidden, NotFound } from '../../core/errors.ts';
import type { Channel } from '../../notify/channel.ts';
import type { NotificationHub } from '../../notify/hub.ts';
import { rolesOf } from '../auth-guard.ts';
import { apiErrors, Iso, iso, NoContent } from '../schemas.ts';

const ChannelView = Type.Object({ id: Type.String(), connectUri: Type.String(), expires: Iso });
const Topic = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
const Topics = Type.Array(Topic, { maxItems: 1000 });
const Subscriptions = Type.Object({ entities: Topics });
const ChannelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type ChannelRequest = { Params: Static<typeof ChannelParams> };

const TOPIC = /^v2\.users\.([^.]+)\.(presence|routingstatus)$/;

function ownChannel(hub: NotificationHub, request: FastifyRequest<ChannelRequest>): Channel {
  const channel = hub.get(request.params.id);
  if (!channel || channel.token.id !== request.auth.token.id) throw NotFound(`No channel ${request.params.id} for this token`);
  return channel;
}

/** Topics name users of the caller's org; anyone but oneself needs the admin role. */
async function checkTopics(a: Authority, request: FastifyRequest, topics: { id: string }[]) {
  let admin: boolean | undefined;
  for (const { id } of topics) {
    const match = TOPIC.exec(id);
    if (!match) throw NotFound(`Unknown topic ${id}; topics are v2.users.{id}.presence and v2.users.{id}.routingstatus`);
    const userId = match[1]!;
    if (userId === request.auth.userId) continue;
    if (!(await a.store.getUser(request.auth.orgId, userId))) throw NotFound(`No user ${userId} in this organization`);
    admin ??= (await rolesOf(a, request.auth)).includes('admin');
    if (!admin) throw Forbidden(`Subscribing to another user's topics (${id}) requires the admin role`);
  }
}

const view = (channel: Channel, issuer: string) => ({
  id: channel.id, connectUri: `${issuer.replace(/^http/, 'ws')}/notifications/channels/${channel.id}`, expires: iso(channel.expiresAt),
});
const topicsOf = (channel: Channel) => ({ entities: [...channel.topics].map((id) => ({ id })) });

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
  api.get('/api/v2/notifications/availabletopics', { schema: { response: { 200: AvailableTopics, ...apiErrors } } }, async () => AVAILABLE_TOPICS);

  // Whether the channel still exists (the SDK's headNotificationsChannel): 200, or 404.
  api.head<ChannelRequest>('/api/v2/notifications/channels/:id', { schema: { params: ChannelParams, response: { 200: NoContent, ...apiErrors } } },
    async (request, reply) => {
      ownChannel(hub, request);
      return reply.code(200).header('content-length', 0).send();
    });

  api.post('/api/v2/notifications/channels', { schema: { response: { 200: ChannelView, ...apiErrors } } },
    async (request) => view(hub.create(request.auth.token), a.issuer()));

  api.get('/api/v2/notifications/channels', { schema: { response: { 200: Type.Object({ entities: Type.Array(ChannelView) }), ...apiErrors } } },
    async (request) => ({ entities: hub.channelsOf(request.auth.token.id).map((c) => view(c, a.issuer())) }));

  const schema = (body?: typeof Topics) => ({ params: ChannelParams, ...(body ? { body } : {}), response: { 200: Subscriptions, ...apiErrors } });

  api.get<ChannelRequest>('/api/v2/notifications/channels/:id/subscriptions', { schema: schema() },
    async (request) => topicsOf(ownChannel(hub, request)));

  api.put<ChannelRequest & { Body: Static<typeof Topics> }>('/api/v2/notifications/channels/:id/subscriptions', { schema: schema(Topics) },
    async function replaceSubscriptions(request) {
      const channel = ownChannel(hub, request);
      await checkTopics(a, request, request.body);
      hub.setTopics(channel, request.body.map((t) => t.id));
      return topicsOf(channel);
    });

  api.post<ChannelRequest & { Body: Static<typeof Topics> }>('/api/v2/notifications/channels/:id/subscriptions', { schema: schema(Topics) },
    async function addSubscriptions(request) {
      const channel = ownChannel(hub, request);
      await checkTopics(a, request, request.body);
      hub.setTopics(channel, [...channel.topics, ...request.body.map((t) => t.id)]);
      return topicsOf(channel);
    });

  api.delete<ChannelRequest>('/api/v2/notifications/channels/:id/subscriptions',
    { schema: { params: ChannelParams, response: { 204: NoContent, ...apiErrors } } },
    async (request, reply) => {
      hub.setTopics(ownChannel(hub, request), []);
      return reply.code(204).send();
    });
}

/** The WebSocket end of a channel. The channel id is the capability; nothing here counts as activity. */
export function channelSocketRoute(app: FastifyInstance, hub: NotificationHub) {
  app.get<ChannelRequest>('/notifications/channels/:id', { websocket: true, schema: { params: ChannelParams } }, (socket, request) => {
    const channel = hub.connect(request.params.id, socket);
    if (!channel) return;
    socket.on('message', (data: Buffer) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if ((message as { message?: unknown })?.message === 'ping') {
        socket.send(JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'pong' } }));
      }
    });
    socket.on('close', () => hub.disconnected(channel, socket));
  });
}
