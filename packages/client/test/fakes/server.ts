import type { FakeClock } from './clock.ts';

export const ISSUER = 'https://auth.test';

type Problem = 'revoked' | 'idle' | 'expired';
const CODE: Record<Problem, string> = { revoked: 'token.revoked', idle: 'token.idle_timeout', expired: 'token.expired' };
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
  /** With `problem: 'revoked'`: the reason the 401 names (none: an older server, the SDK asks the channel). */
  revokeReason?: string;
  /** Refuses the token with exactly this code (and reason), whatever else is set. */
  refusal?: { code: string | null; reason?: string };
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

const quoted = (value: string) => `"${value.replace(/["\\]/g, "'")}"`;

/**
 * The Lockstep server as the SDK sees it, in process: tokens with idle clocks and the server's activity rule
 * (`preserveIdleTTL=true`, excluded paths and `Lockstep-Activity: background` are not activity), the idle deadline in
 * `Lockstep-Idle-Expires`, 401s with stable codes, token info, logout, channels and subscriptions, the token endpoint.
 * Routes can be replaced per test.
 */
export class FakeServer {
  readonly tokens = new Map<string, FakeToken>();
  readonly requests: SeenRequest[] = [];
  readonly routes = new Map<string, Handler>();
  /** The organization's excluded paths: calls to them are not activity (the deadline in their answer does not move). */
  readonly inactivityTimeoutExclusions = new Set<string>();
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
    const response = custom ? await custom(request) : url.pathname === '/oauth/token'
      ? json(400, { error: 'invalid_grant', error_description: 'no token route in this test' })
      : this.#api(request);
    return method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
  };

  #api(r: SeenRequest): Response {
    const authorization = r.headers.get('authorization');
    if (!authorization) return this.#unauthorized('token.missing', 'An access token is required');
    const raw = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (!raw) return this.#unauthorized('token.malformed', 'The Authorization header is not Bearer <token>');
    const token = this.tokens.get(raw);
    const now = this.clock.now();
    if (!token) return this.#unauthorized('token.unknown', 'The access token is not known');
    if (token.refusal) return this.#unauthorized(token.refusal.code, 'Refused', token.refusal.reason);
    if (!token.problem && now >= token.expiresAt) token.problem = 'expired';
    if (!token.problem && token.idleTimeoutSeconds != null && now >= token.lastActivityAt + token.idleTimeoutSeconds * 1000) token.problem = 'idle';
    if (token.problem) return this.#unauthorized(CODE[token.problem], DESCRIPTION[token.problem], token.problem === 'revoked' ? token.revokeReason : undefined);
    if (this.#countsAsActivity(r)) token.lastActivityAt = now;
    const idle: Record<string, string> = token.idleTimeoutSeconds == null
      ? {} : { 'lockstep-idle-expires': new Date(token.lastActivityAt + token.idleTimeoutSeconds * 1000).toISOString() };

    const route = `${r.method} ${r.path.replace(/channels\/[^/]+\/subscriptions$/, 'channels/:id/subscriptions')}`;
    switch (route) {
      case 'HEAD /api/v2/tokens/me':
        return new Response(null, { status: 200, headers: idle });
      case 'GET /api/v2/tokens/me':
        return json(200, {
          organization: { id: 'o1', name: 'Demo' }, homeOrganization: { id: 'o1', name: 'Demo' }, authorizedScope: ['openid'],
          OAuthClient: { id: 'agent-desktop', name: 'Agent Desktop', authorizedGrantType: 'CODE', organization: { id: 'o1', name: 'Demo' } },
          ...(idle['lockstep-idle-expires'] && { dateTokenIdles: idle['lockstep-idle-expires'] }),
          user: token.user, issuedAt: new Date(now).toISOString(), expiresAt: new Date(token.expiresAt).toISOString(),
          idleTimeoutSeconds: token.idleTimeoutSeconds,
        }, idle);
      case 'DELETE /api/v2/tokens/me':
        token.problem = 'revoked';
        token.revokeReason = 'logout';
        return new Response(null, { status: 204 });
      case 'POST /api/v2/notifications/channels': {
        const id = `ch${++this.channelCount}`;
        return json(200, { id, connectUri: `wss://auth.test/notifications/channels/${id}`, expires: new Date(token.expiresAt).toISOString() }, idle);
      }
      case 'POST /api/v2/notifications/channels/:id/subscriptions':
      case 'PUT /api/v2/notifications/channels/:id/subscriptions':
        return json(200, { entities: JSON.parse(r.body ?? '[]') }, idle);
      default:
        return json(200, { ok: true }, idle);
    }
  }

  #countsAsActivity(r: SeenRequest): boolean {
    if (r.path === '/api/v2/tokens/me' && r.query.get('preserveIdleTTL') === 'true') return false;
    if (r.headers.get('lockstep-activity') === 'background') return false;
    return !this.inactivityTimeoutExclusions.has(r.path);
  }

  #unauthorized(code: string | null, message: string, reason?: string): Response {
    const extra = `${code ? `, code=${quoted(code)}` : ''}${reason ? `, reason=${quoted(reason)}` : ''}`;
    const challenge = code === 'token.missing' ? `Bearer realm="lockstep"${extra}` : `Bearer error="invalid_token", error_description=${quoted(message)}${extra}`;
    return json(401, { status: 401, ...(code ? { code } : {}), message, ...(reason ? { reason } : {}) }, { 'www-authenticate': challenge });
  }
}
