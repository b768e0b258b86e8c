import type { FastifyRequest } from 'fastify';
import type { Authority } from '../../authority/authority.ts';
import { InvalidClient, InvalidRequest } from '../../core/errors.ts';
import { safeEqual, sha256 } from '../../core/secrets.ts';
import type { Client } from '../../core/records.ts';

export interface ClientCredentialsBody {
  client_id?: string;
  client_secret?: string;
}

function basicCredentials(header: string | undefined): [string, string] | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw InvalidClient('Malformed Basic credentials');
  try {
    return [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
  } catch {
    throw InvalidClient('Malformed Basic credentials');
  }
}

/**
 * Client authentication for the token, revocation and introspection endpoints:
 * client_secret_basic, client_secret_post, or `none` (a public client naming itself).
 */
export async function authenticateClient(a: Authority, request: FastifyRequest<{ Body: ClientCredentialsBody }>, opts: { confidentialOnly?: boolean } = {}): Promise<Client> {
  const body = request.body ?? {};
  const basic = basicCredentials(request.headers.authorization);
  if (basic && body.client_secret) throw InvalidRequest('Use one client authentication method, not both Basic and client_secret');
  const [clientId, secret] = basic ?? [body.client_id, body.client_secret];
  if (!clientId) throw InvalidClient('Client authentication is required (client_id)');
  if (basic && body.client_id && body.client_id !== clientId) throw InvalidRequest('client_id does not match the Basic credentials');

  const client = await a.store.getClient(clientId);
  if (client?.type === 'confidential') {
    if (!secret || !client.secretHash || !safeEqual(sha256(secret), client.secretHash)) throw InvalidClient('Client authentication failed');
    return client;
  }
  if (!client) throw InvalidClient('Client authentication failed');
  if (secret) throw InvalidClient('This is a public client; it has no secret');
  if (opts.confidentialOnly) throw InvalidClient('This endpoint requires a confidential client');
  return client;
}
