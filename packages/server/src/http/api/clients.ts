import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { newId } from '../../core/ids.ts';
import type { Authority } from '../../authority/authority.ts';
import { BadRequest, NotFound } from '../../core/errors.ts';
import { randomToken, sha256, TOKEN_PREFIX } from '../../core/secrets.ts';
import { originOf } from '../../core/web-origins.ts';
import { GRANT_TYPES, ROLES, type Client } from '../../core/records.ts';
import { apiErrors, IdParams, Iso, iso, NoContent, page, PageQuery, Paged, type PageRequest } from '../schemas.ts';

const Uri = Type.String({ format: 'uri', maxLength: 2048 });
const Uris = Type.Array(Uri, { uniqueItems: true, maxItems: 50 });
const ClientBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  redirectUris: Uris,
  grantTypes: Type.Array(Type.Union(GRANT_TYPES.map((g) => Type.Literal(g))), { uniqueItems: true, minItems: 1 }),
  postLogoutRedirectUris: Type.Optional(Uris),
  backchannelLogoutUri: Type.Optional(Type.Union([Uri, Type.Null()])),
  allowedOrigins: Type.Optional(Type.Array(Type.String({ maxLength: 300, description: 'scheme://host[:port], no path' }),
    { uniqueItems: true, maxItems: 50, description: 'Browser origins allowed to call Lockstep for this client (CORS), besides those of its redirect URIs' })),
  roles: Type.Optional(Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { uniqueItems: true })),
  loopbackAnyPort: Type.Optional(Type.Boolean({ description: 'A native app: its loopback redirect URIs match on any port (RFC 8252 §7.3). Default false' })),
}, { additionalProperties: false });
type ClientBody = Static<typeof ClientBody>;

const ClientView = Type.Object({
  id: Type.String(), name: Type.String(), type: Type.String(), redirectUris: Type.Array(Type.String()),
  grantTypes: Type.Array(Type.String()), postLogoutRedirectUris: Type.Array(Type.String()),
  backchannelLogoutUri: Type.Union([Type.String(), Type.Null()]), allowedOrigins: Type.Array(Type.String()), roles: Type.Array(Type.String()),
  loopbackAnyPort: Type.Boolean(), createdAt: Iso,
  secret: Type.Optional(Type.String({ description: 'Only in the answer to creating a confidential client' })),
});

const clientView = (c: Client) => ({
  id: c.id, name: c.name, type: c.type, redirectUris: c.redirectUris, grantTypes: c.grantTypes,
  postLogoutRedirectUris: c.postLogoutRedirectUris, backchannelLogoutUri: c.backchannelLogoutUri, allowedOrigins: c.allowedOrigins,
  roles: c.roles, loopbackAnyPort: c.loopbackAnyPort, createdAt: iso(c.createdAt),
});

function checkClient(b: ClientBody) {
  if (b.type === 'public' && b.grantTypes.includes('client_credentials')) throw BadRequest('A public client cannot use client_credentials');
  if (b.type === 'public' && b.backchannelLogoutUri) throw BadRequest('Back-channel logout needs a confidential client');
  if (b.grantTypes.includes('authorization_code') && !b.redirectUris.length) throw BadRequest('authorization_code needs at least one redirect URI');
  if (b.redirectUris.some((u) => u.includes('#'))) throw BadRequest('Redirect URIs must not contain a fragment');
  const notOrigin = b.allowedOrigins?.find((o) => originOf(o) !== o);
  if (notOrigin != null) throw BadRequest(`allowedOrigins entry "${notOrigin}" must be an origin: http(s)://host[:port], without path or trailing slash`);
}

/** The back-channel address policy (core/backchannel-address.ts): 400 naming the rule a URI breaks. */
async function checkBackchannelLogoutUri(a: Authority, b: ClientBody) {
  if (!b.backchannelLogoutUri) return;
  const refusal = await a.backchannel.checkUri(b.backchannelLogoutUri);
  if (refusal) throw BadRequest(`backchannelLogoutUri is refused (rule ${refusal.rule}): ${refusal.message}`);
}

const fields = (b: ClientBody) => ({
  name: b.name, type: b.type, redirectUris: b.redirectUris, grantTypes: b.grantTypes,
  postLogoutRedirectUris: b.postLogoutRedirectUris ?? [], backchannelLogoutUri: b.backchannelLogoutUri ?? null,
  allowedOrigins: b.allowedOrigins ?? [], roles: b.roles ?? [], loopbackAnyPort: b.loopbackAnyPort ?? false,
});

async function mustGetClient(a: Authority, orgId: string, id: string) {
  const client = await a.store.getClient(id);
  if (!client || client.orgId !== orgId) throw NotFound(`No OAuth client ${id} in this organization`);
  return client;
}

export function clientRoutes(admin: FastifyInstance, a: Authority) {
  admin.get<{ Querystring: PageRequest }>('/api/v2/oauth/clients', { schema: { tags: ['OAuth clients'], summary: 'List OAuth clients', querystring: PageQuery, response: { 200: Paged(ClientView), ...apiErrors } } },
    async (request) => page(await a.store.listClients(request.auth.orgId), request.query, clientView));

  admin.post<{ Body: ClientBody }>('/api/v2/oauth/clients', { schema: { tags: ['OAuth clients'], summary: 'Register an OAuth client (a confidential one gets its secret once)', body: ClientBody, response: { 201: ClientView, ...apiErrors } } },
    async function createClient(request, reply) {
      checkClient(request.body);
      await checkBackchannelLogoutUri(a, request.body);
      const secret = request.body.type === 'confidential' ? randomToken(TOKEN_PREFIX.clientSecret) : null;
      const client: Client = {
        id: newId(), orgId: request.auth.orgId, ...fields(request.body), secretHash: secret ? sha256(secret) : null, createdAt: a.clock.now(),
      };
      await a.store.createClient(client);
      await clientsChanged(a, client.orgId);
      return reply.code(201).send({ ...clientView(client), ...(secret ? { secret } : {}) });
    });

  admin.get<{ Params: { id: string } }>('/api/v2/oauth/clients/:id', { schema: { tags: ['OAuth clients'], summary: 'Get an OAuth client', params: IdParams, response: { 200: ClientView, ...apiErrors } } },
    async (request) => clientView(await mustGetClient(a, request.auth.orgId, request.params.id)));

  admin.put<{ Params: { id: string }; Body: ClientBody }>('/api/v2/oauth/clients/:id',
    { schema: { tags: ['OAuth clients'], summary: 'Replace an OAuth client', params: IdParams, body: ClientBody, response: { 200: ClientView, ...apiErrors } } },
    async function updateClient(request) {
      const client = await mustGetClient(a, request.auth.orgId, request.params.id);
      checkClient(request.body);
      if (request.body.type !== client.type) throw BadRequest('A client cannot change type; create a new client instead');
      await checkBackchannelLogoutUri(a, request.body);
      const next: Client = { ...client, ...fields(request.body) };
      await a.store.updateClient(next);
      await clientsChanged(a, next.orgId);
      return clientView(next);
    });

  admin.delete<{ Params: { id: string } }>('/api/v2/oauth/clients/:id', { schema: { tags: ['OAuth clients'], summary: 'Delete an OAuth client (its tokens end)', params: IdParams, response: { 204: NoContent, ...apiErrors } } },
    async function deleteClient(request, reply) {
      const { orgId, clientId } = request.auth;
      const client = await mustGetClient(a, orgId, request.params.id);
      if (client.id === clientId) request.auth.endsOwnToken = true;
      await a.ledger.end({ clientId: client.id }, { orgId, userId: null, reason: 'client_deleted', initiatingClientId: clientId });
      await a.store.deleteClient(orgId, client.id);
      await clientsChanged(a, orgId);
      return reply.code(204).send();
    });

  // A new secret, answered once; the old one stops working at once. Tokens already issued stay (revoke them apart if it leaked).
  admin.post<{ Params: { id: string } }>('/api/v2/oauth/clients/:id/secret', { schema: { tags: ['OAuth clients'], summary: "Rotate a confidential client's secret (answered once)", params: IdParams, response: { 200: ClientView, ...apiErrors } } },
    async function rotateSecret(request) {
      const client = await mustGetClient(a, request.auth.orgId, request.params.id);
      if (client.type !== 'confidential') throw BadRequest('A public client has no secret');
      const secret = randomToken(TOKEN_PREFIX.clientSecret);
      await a.store.updateClient({ ...client, secretHash: sha256(secret) });
      return { ...clientView(client), secret };
    });
}

/** The allowed browser origins (CORS) follow the org's clients, on every node before the change call returns. */
async function clientsChanged(a: Authority, orgId: string): Promise<void> {
  a.webOrigins.invalidate();
  await a.membership.announce({ kind: 'org_changed', orgId }, a.clock.now());
}
