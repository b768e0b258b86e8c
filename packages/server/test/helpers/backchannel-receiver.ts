/**
 * A relying party's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0) as a
 * real HTTP server on loopback: it keeps every `logout_token` it is sent, verifies them as an RP
 * must (or leaves that to the test), answers as the test tells it, and can be taken down
 * (connections refused) and brought up again on the same port.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * How the receiver answers:
 * - `ok`: verifies, acts (once per jti), 200;
 * - `unavailable`: 503 without looking at the token (the service behind a proxy is down);
 * - `bad-request`: verifies, then refuses with 400 without acting;
 * - `act-then-fail-once`: verifies and acts, but answers 500 the first time it sees a jti (a crash after acting);
 * - `slow`: like `ok`, but answers only after 700 ms (longer than the deliverer's 500 ms poll interval).
 */
export type ReceiverAnswer = 'ok' | 'unavailable' | 'bad-request' | 'act-then-fail-once' | 'slow';

export interface ReceiverOptions {
  /** The answer until the test sets `answer`; `ok` by default. */
  answer?: ReceiverAnswer;
  /** The audience the logout tokens must name; `crm-backend` by default. */
  audience?: string;
  /** The clock the tokens' `iat`/`exp` are checked against (the server's injected clock); `Date.now` by default. */
  now?: () => number;
  /**
   * `true` (the default): each logout token must be signed by `issuer`'s JWKS, name `issuer` and the
   * audience, have `typ: logout+jwt`, the required claims and the back-channel event, and no nonce;
   * a token that is not is refused with 400 and its reason kept in `rejected`.
   * `false`: tokens are only decoded; the test verifies `tokens` itself.
   */
  verify?: boolean;
  /** More checks of a verified request (a throw refuses it with 400 like a failed verification). */
  check?: (req: IncomingMessage, payload: JWTPayload, header: JWTHeaderParameters) => void;
}

export class BackchannelReceiver {
  /** The issuer the tokens must name (the URL of the server that currently delivers). */
  issuer = '';
  answer: ReceiverAnswer;
  /** Every HTTP request, with the status answered. */
  readonly hits: { status: number }[] = [];
  /** Every `logout_token` form parameter sent, raw, whatever the answer. */
  readonly tokens: string[] = [];
  /** Every accepted logout token's payload, in arrival order (a duplicate delivery shows up twice). */
  readonly received: JWTPayload[] = [];
  /** The logouts acted on: one per jti, ever. */
  readonly actions: JWTPayload[] = [];
  /** Why a request carried no acceptable logout token. */
  readonly rejected: string[] = [];
  readonly #options: ReceiverOptions;
  readonly #acted = new Set<string>();
  readonly #failedOnce = new Set<string>();
  readonly #jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  #server: Server | null = null;
  #port = 0;

  constructor(options: ReceiverOptions = {}) {
    this.#options = options;
    this.answer = options.answer ?? 'ok';
  }

  get url() {
    assert.ok(this.#port, 'the receiver has been up once');
    return `http://127.0.0.1:${this.#port}/backchannel-logout`;
  }

  receivedOf(jti: string) {
    return this.received.filter((p) => p.jti === jti);
  }
  actionsOf(jti: string) {
    return this.actions.filter((p) => p.jti === jti);
  }

  /** Listens (again on the same port after the first time, so the URL the outbox holds stays right). */
  async up() {
    assert.equal(this.#server, null, 'already up');
    const server = createServer((req, res) => void this.#handle(req, res));
    server.listen(this.#port, '127.0.0.1');
    await once(server, 'listening');
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops listening and drops kept-alive connections: the next delivery gets "connection refused". */
  async down() {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise((r) => server.close(r));
    server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const answer = (status: number) => {
      this.hits.push({ status });
      res.writeHead(status, { 'cache-control': 'no-store' }).end();
    };
    let body = '';
    req.setEncoding('utf8');
    for await (const chunk of req) body += chunk;
    const token = new URLSearchParams(body).get('logout_token');
    if (token) this.tokens.push(token);
    if (this.answer === 'unavailable') return answer(503);
    // Not told yet which server delivers (a restarted one sends before the test learns its URL): come back later.
    if (this.#options.verify !== false && !this.issuer) return answer(503);

    let payload: JWTPayload;
    try {
      assert.ok(token, 'a logout_token form parameter');
      payload = this.#options.verify === false ? decodeJwt(token) : await this.#verify(req, token);
    } catch (err) {
      this.rejected.push((err as Error).message);
      return answer(400);
    }
    this.received.push(payload);
    if (this.answer === 'bad-request') return answer(400);

    const jti = payload.jti!;
    if (!this.#acted.has(jti)) {
      this.#acted.add(jti);
      this.actions.push(payload);
    }
    if (this.answer === 'act-then-fail-once' && !this.#failedOnce.has(jti)) {
      this.#failedOnce.add(jti);
      return answer(500);
    }
    if (this.answer === 'slow') await new Promise((r) => setTimeout(r, 700));
    answer(200);
  }

  /** What an RP checks of a logout token before it acts (section 2.6), plus the test's own `check`. */
  async #verify(req: IncomingMessage, token: string): Promise<JWTPayload> {
    let jwks = this.#jwks.get(this.issuer);
    if (!jwks) this.#jwks.set(this.issuer, (jwks = createRemoteJWKSet(new URL(`${this.issuer}/oauth/jwks`))));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: this.issuer, audience: this.#options.audience ?? 'crm-backend', typ: 'logout+jwt',
      currentDate: new Date((this.#options.now ?? Date.now)()),
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'sub', 'sid', 'events'],
    });
    assert.deepEqual((payload.events as Record<string, unknown>)[BACKCHANNEL_EVENT], {});
    assert.equal('nonce' in payload, false, 'a logout token must not carry a nonce');
    this.#options.check?.(req, payload, protectedHeader);
    return payload;
  }
}
