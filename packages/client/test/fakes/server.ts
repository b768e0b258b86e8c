import type { FakeClock } from './clock.ts';

export const ISSUER = 'https://auth.test';

type Problem = 'revoked' | 'idle' | 'expired';
const DESCRIPTION: Record<Problem, string> = {
  revoked: 'The access token has been revoked',
  idle: 'The access token expired after the idle timeout',
  expired: 'The access token has expired',
};

export interface FakeToken {
  user: { id: string; email: string; name: string } | null;
  idleTimeoutSeconds: number | null;
  lastActivityAt: number;
  expiresAt: number;
  problem: Problem | null;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string | null;
}

type Handler = (request: SeenRequest) => Response | Promise<Response>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/**
 * The Lockstep server as the SDK sees it, in process: tokens with idle clocks (activity rule included),
 * token info, logout, channels and subscriptions, the token endpoint. Routes can be replaced per test.
 */
export class FakeServer {
  readonly tokens = new Map<string, FakeToken>();
  readonly requests: SeenRequest[] = [];
  readonly routes = new Map<string, Handler>();
  channelCount = 0;

  constructor(readonly clock: FakeClock) {}

  issue(accessToken: string, opts: Partial<FakeToken> = {}): FakeToken {
    const token: FakeToken = {
      user: { id: 'u1', email: 'agent@demo.test', name: 'Agent One' }, idleTimeoutSeconds: 600,
      lastActivityAt: this.clock.now(), expiresAt: this.clock.now() + 8 * 3600_000, problem: null, ...opts,
    };
    this.tokens.set(accessToken, token);
    return token;
  }

  /** Requests seen, as "METHOD /path?query" strings (optionally only those matching). */
  seen(filter?: string | RegExp): string[] {
    const all = this.requests.map((r) => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ''}`);
    if (filter == null) return all;
    return all.filter((line) => (typeof filter === 'string' ? line.startsWith(filter) : filter.test(line)));
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin !== ISSUER) throw new TypeError(`fetch to a foreign origin: ${url.origin}`);
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body == null ? null : String(init.body);
    const request: SeenRequest = { method, path: url.pathname, query: url.searchParams, headers: new Headers(init.headers), body };
    this.requests.push(request);
    const custom = this.routes.get(`${method} ${url.pathname}`);
    if (custom) return custom(request);
    if (url.pathname === '/oauth/token') return json(400, { error: 'invalid_grant', error_description: 'no token route in this test' });
    return this.#api(request);
  };

  #api(r: SeenRequest): Response {
    const raw = /^Bearer (.+)$/.exec(r.headers.get('authorization') ?? '')?.[1];
    const token = raw ? this.tokens.get(raw) : undefined;
    const now = this.clock.now();
    if (!token) return this.#unauthorized('The access token is not known');
    if (!token.problem && now >= token.expiresAt) token.problem = 'expired';
    if (!token.problem && token.idleTimeoutSeconds != null && now >= token.lastActivityAt + token.idleTimeoutSeconds * 1000) token.problem = 'idle';
    if (token.problem) return this.#unauthorized(DESCRIPTION[token.problem]);
    const preserving = r.method === 'GET' && r.path === '/api/v2/tokens/me' && r.query.get('preserveIdleTTL') === 'true';
    if (!preserving) token.lastActivityAt = now;

    const route = `${r.method} ${r.path.replace(/channels\/[^/]+\/subscriptions$/, 'channels/:id/subscriptions')}`;
    switch (route) {
      case 'HEAD /api/v2/tokens/me':
        return new Response(null, { status: 200 });
      case 'GET /api/v2/tokens/me':
        return json(200, {
          user: token.user, client: { id: 'agent-desktop', name: 'Agent Desktop' }, organization: { id: 'o1', name: 'Demo' },
          issuedAt: new Date(now).toISOString(), expiresAt: new Date(token.expiresAt).toISOString(),
          idleExpiresAt: token.idleTimeoutSeconds == null ? null : new Date(token.lastActivityAt + token.idleTimeoutSeconds * 1000).toISOString(),
          idleTimeoutSeconds: token.idleTimeoutSeconds,
        });
      case 'DELETE /api/v2/tokens/me':
        token.problem = 'revoked';
        return new Response(null, { status: 204 });
      case 'POST /api/v2/notifications/channels': {
        const id = `ch${++this.channelCount}`;
        return json(200, { id, connectUri: `wss://auth.test/notifications/channels/${id}`, expires: new Date(token.expiresAt).toISOString() });
      }
      case 'POST /api/v2/notifications/channels/:id/subscriptions':
      case 'PUT /api/v2/notifications/channels/:id/subscriptions':
        return json(200, { entities: JSON.parse(r.body ?? '[]') });
      default:
        return json(200, { ok: true });
    }
  }

  #unauthorized(description: string): Response {
    return json(401, { status: 401, code: 'invalid.token', message: description }, {
      'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    });
  }
}
