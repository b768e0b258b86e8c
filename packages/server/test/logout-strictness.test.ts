import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { api } from './helpers/api.ts';
import { automationToken, bearer, Browser, signIn } from './helpers/browser.ts';
import { DEMO_PASSWORD, DEMO_SECRET, startTestServer, type TestServer } from './helpers/test-server.ts';

/**
 * Strictness: after the logout call returns, no request with any revoked token succeeds.
 * Many request loops hammer the API with the tokens while the logout (or admin logoff, or RFC 7009
 * revocation) is sent; every response is timed when it has been fully received, and every response
 * that completed after the revoking call returned must be a 401. A fresh burst afterwards is 401 too,
 * and the same tokens succeeded before, so the requests really raced the revocation.
 */

const agent = { username: 'agent@demo.test', password: DEMO_PASSWORD };
const CLIENTS = ['agent-desktop', 'crm-embedded', 'desktop-app'] as const;
const WORKERS = 20;
const ROUNDS = 4;

interface Outcome {
  token: string;
  method: 'GET' | 'HEAD';
  status: number;
  /** performance.now() when the request was sent and when its response was fully received. */
  sentAt: number;
  doneAt: number;
  wwwAuthenticate: string | null;
}

async function request(url: string, token: string, method: 'GET' | 'HEAD'): Promise<Outcome> {
  const sentAt = performance.now();
  const res = await fetch(url + '/api/v2/tokens/me', { method, headers: bearer(token) });
  await res.arrayBuffer(); // the whole response, body included
  return { token, method, status: res.status, sentAt, doneAt: performance.now(), wwwAuthenticate: res.headers.get('www-authenticate') };
}

interface Race {
  outcomes: Outcome[];
  /** When the revoking call was sent, and when its response had been fully received. */
  sentAt: number;
  returnedAt: number;
  status: number;
}

/**
 * WORKERS loops send GET and HEAD /api/v2/tokens/me with every token, round robin. Once every token
 * has succeeded at least once, `revoke` is sent; the loops go on for `tailMs` after it returned.
 */
async function race(url: string, tokens: string[], revoke: () => Promise<Response>, tailMs = 150): Promise<Race> {
  const outcomes: Outcome[] = [];
  let stop = false;
  let warm!: () => void;
  const warmedUp = new Promise<void>((resolve) => (warm = resolve));
  const succeeded = new Set<string>();
  let n = 0;
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    let i = w;
    while (!stop) {
      const token = tokens[i % tokens.length]!;
      const method = (i >> 1) % 2 ? 'HEAD' : 'GET';
      i += WORKERS + 1;
      const outcome = await request(url, token, method);
      outcomes.push(outcome);
      if (outcome.status === 200 && !succeeded.has(token)) {
        succeeded.add(token);
        if (succeeded.size === tokens.length) warm();
      }
      if (++n > 20_000) throw new Error('the race never warmed up: ' + JSON.stringify(outcomes.slice(-3)));
    }
  });
  await warmedUp;
  // A little more load, and a varying moment, before the revocation.
  await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20)));
  const sentAt = performance.now();
  const res = await revoke();
  await res.arrayBuffer();
  const returnedAt = performance.now();
  await new Promise((r) => setTimeout(r, tailMs));
  stop = true;
  await Promise.all(workers);
  return { outcomes, sentAt, returnedAt, status: res.status };
}

/** A fresh burst of concurrent GET and HEAD requests with each token. */
async function burst(url: string, tokens: string[], perToken = 10): Promise<Outcome[]> {
  return Promise.all(tokens.flatMap((t) => Array.from({ length: perToken }, (_, i) => request(url, t, i % 2 ? 'HEAD' : 'GET'))));
}

const describeOutcome = (o: Outcome, r: Race) =>
  `${o.method} ${o.status}, sent ${(o.sentAt - r.returnedAt).toFixed(2)} ms and done ${(o.doneAt - r.returnedAt).toFixed(2)} ms relative to the return`;

/** The strictness assertions for one race: `revoked` must be refused after the return, `kept` must always succeed. */
function assertStrict(r: Race, revoked: string[], kept: string[] = []): string {
  const isRevoked = new Set(revoked);
  const after = r.outcomes.filter((o) => isRevoked.has(o.token) && o.doneAt > r.returnedAt);
  const before = r.outcomes.filter((o) => isRevoked.has(o.token) && o.doneAt <= r.sentAt);
  const straddling = r.outcomes.filter((o) => isRevoked.has(o.token) && o.sentAt < r.returnedAt && o.doneAt > r.returnedAt);

  for (const o of r.outcomes) assert.ok([200, 401].includes(o.status), `only 200 or 401 are expected: ${describeOutcome(o, r)}`);
  assert.ok(before.some((o) => o.status === 200), 'the revoked tokens succeeded before the revocation was sent (the test raced)');
  for (const t of revoked) assert.ok(before.some((o) => o.token === t && o.status === 200), 'every revoked token succeeded before the call');
  assert.ok(after.length > 0, 'requests completed after the return');
  assert.ok(straddling.length > 0, 'some requests were in flight when the revoking call returned');
  const late = after.filter((o) => o.status !== 401);
  assert.deepEqual(late.map((o) => describeOutcome(o, r)), [], 'no success with a revoked token after the revoking call returned');
  for (const o of after) assert.match(o.wwwAuthenticate ?? '', /invalid_token/);

  const others = r.outcomes.filter((o) => kept.includes(o.token));
  if (kept.length) {
    assert.ok(others.length > 0);
    assert.deepEqual(others.filter((o) => o.status !== 200).map((o) => describeOutcome(o, r)), [], 'tokens that were not revoked kept working');
  }
  return `${r.outcomes.length} responses: ${before.filter((o) => o.status === 200).length} successes before the call, ` +
    `${after.length} completed after the return (${straddling.length} in flight at the return), call took ${(r.returnedAt - r.sentAt).toFixed(1)} ms`;
}

/**
 * With the embedded SQLite store a handler has no real I/O between its token check and its answer, so
 * the second variant gives GET /api/v2/tokens/me some (as a networked store such as PostgreSQL would):
 * then requests that passed the token check before the revocation answer after it, which is the case
 * the onSend re-check (refuseIfRevokedMeanwhile) exists for.
 */
for (const slowStore of [false, true]) describe(`logout strictness${slowStore ? ', store answering after real I/O' : ''}: nothing succeeds with a revoked token once the call returned`, () => {
  let server: TestServer;
  let call: ReturnType<typeof api>;
  let agentId: string;
  const admin = () => automationToken(server.url, DEMO_SECRET);

  /** The agent signed in on every client in one browser (SSO after the first). */
  async function signInEverywhere(): Promise<string[]> {
    const browser = new Browser();
    const tokens: string[] = [];
    for (const clientId of CLIENTS) tokens.push((await signIn(server.url, browser, { clientId }, agent)).tokens.access_token);
    return tokens;
  }

  before(async () => {
    server = await startTestServer();
    call = api(server.url);
    if (slowStore) {
      const store = server.authority.store;
      const getOrg = store.getOrg.bind(store);
      store.getOrg = async (id) => {
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        return getOrg(id);
      };
    }
    const r = await call('PATCH', '/api/v2/organizations/authentication/settings', await admin(), { universalLogout: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.universalLogout, true);
    const [token] = await signInEverywhere();
    agentId = (await call('GET', '/api/v2/tokens/me', token!)).body.user.id;
  });
  after(() => server.stop());

  test('universal logout (DELETE /api/v2/tokens/me): every token of the user is refused from the return on', async (t) => {
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await signInEverywhere();
      const logoutFrom = tokens[round % tokens.length]!;
      const r = await race(server.url, tokens, () => fetch(server.url + '/api/v2/tokens/me', { method: 'DELETE', headers: bearer(logoutFrom) }));
      assert.equal(r.status, 204);
      t.diagnostic(assertStrict(r, tokens));
      for (const o of await burst(server.url, tokens)) assert.equal(o.status, 401, `fresh burst after the return: ${o.method}`);
    }
  });

  test('admin logoff (DELETE /api/v2/tokens/{userId}, and /api/v2/apps/users/{userId}/logout): every token is refused from the return on', async (t) => {
    const adminToken = await admin();
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await signInEverywhere();
      const path = round % 2 ? `/api/v2/apps/users/${agentId}/logout` : `/api/v2/tokens/${agentId}`;
      const r = await race(server.url, tokens, () => fetch(server.url + path, { method: 'DELETE', headers: bearer(adminToken) }));
      assert.equal(r.status, 204, path);
      t.diagnostic(assertStrict(r, tokens));
      for (const o of await burst(server.url, tokens)) assert.equal(o.status, 401, `fresh burst after the return: ${o.method}`);
    }
    assert.equal((await call('HEAD', '/api/v2/tokens/me', adminToken)).status, 200, "the admin's own token is untouched");
  });

  test('RFC 7009 revocation of one token: that token is refused from the return on, the others never are', async (t) => {
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await signInEverywhere();
      const index = round % tokens.length;
      const victim = tokens[index]!;
      const kept = tokens.filter((t) => t !== victim);
      const r = await race(server.url, tokens, () => fetch(server.url + '/oauth/revoke', {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: victim, token_type_hint: 'access_token', client_id: CLIENTS[index]! }),
      }));
      assert.equal(r.status, 200);
      t.diagnostic(assertStrict(r, [victim], kept));
      const fresh = await burst(server.url, tokens);
      for (const o of fresh) assert.equal(o.status, o.token === victim ? 401 : 200, `fresh burst after the return: ${o.method}`);
      // Clean up for the next round: the agent logs out everywhere.
      assert.equal((await call('DELETE', '/api/v2/tokens/me', kept[0]!)).status, 204);
    }
  });
});
