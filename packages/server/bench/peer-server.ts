// Child process of the peer benchmark: node-oidc-provider 9 on 127.0.0.1, as the issue that asked for it set it up:
// its in-memory adapter, opaque tokens, one confidential client like our demo `automation` client (client_secret_basic,
// client_credentials), introspection on. It tells the parent its URL.
import Provider from 'oidc-provider';

const provider = new Provider('http://127.0.0.1', {
  clients: [{
    client_id: 'automation', client_secret: 'bench-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
  scopes: ['api'],
});
const server = provider.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send!({ url: `http://127.0.0.1:${port}` });
});
process.on('disconnect', () => process.exit(0));
