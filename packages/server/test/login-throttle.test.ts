/**
 * The login throttle (security review finding): attempts are counted before the password hash, per
 * account and per client address separately, with a capped back-off instead of a lock-out; the client
 * address comes from X-Forwarded-For only behind a proxy named in LOCKSTEP_TRUST_PROXY. Real servers,
 * real HTTP, an injected ManualClock where time matters.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, configFromEnv, parseTrustProxy } from '../src/config.ts';
import { ManualClock } from '../src/core/clock.ts';
import { ACCOUNT_LIMITS, ADDRESS_LIMITS, addressKey, FORGET_AFTER_MS, LoginThrottle } from '../src/core/login-throttle.ts';
import { authorizeRequest, Browser, formFields } from './helpers/browser.ts';
import { runCli } from './helpers/cli.ts';
import { DEMO_PASSWORD, startTestServer, type TestServer } from './helpers/test-server.ts';

interface LoginForm {
  url: string;
  browser: Browser;
  /** The form's hidden fields (authorization request, CSRF token). */
  fields: Record<string, string>;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
  /** A 303 to the redirect URI with a code: the password was accepted. */
  signedIn: boolean;
}

/** GET /oauth/authorize in a fresh browser: the login form, ready to be posted any number of times. */
async function openForm(url: string): Promise<LoginForm> {
  const browser = new Browser();
  const res = await authorizeRequest(url, browser, 'agent-desktop');
  const page = await res.text();
  assert.equal(res.status, 200, page);
  return { url, browser, fields: formFields(page) };
}

/** POSTs the login form; `forwardedFor` is sent as X-Forwarded-For. */
async function post(form: LoginForm, username: string, password: string, forwardedFor?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  const res = await form.browser.fetch(`${form.url}/oauth/authorize`, {
    method: 'POST', headers, body: new URLSearchParams({ ...form.fields, username, password }),
  });
  const body = await res.text();
  const location = res.headers.get('location');
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body, signedIn: res.status === 303 && !!location && new URL(location).searchParams.has('code') };
}

/** Polls `condition` until it holds; fails after `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const statuses = (answers: Answer[]) => {
  const count: Record<number, number> = {};
  for (const a of answers) count[a.status] = (count[a.status] ?? 0) + 1;
  return count;
};

const noServerErrors = (answers: Answer[]) =>
  assert.deepEqual(answers.filter((a) => a.status >= 500).map((a) => `${a.status}: ${a.body.slice(0, 200)}`), [], 'no 5xx');

const maxRetryAfter = (answers: Answer[]) => Math.max(0, ...answers.map((a) => Number(a.retryAfter ?? 0)));

const THROTTLED = /Too many sign-in attempts\. Wait (\d+ seconds?|\d+ minutes?), then try again\./;

describe('login throttle behind a trusted proxy (LOCKSTEP_TRUST_PROXY=127.0.0.1, ManualClock)', () => {
  const clock = new ManualClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ clock, env: { LOCKSTEP_TRUST_PROXY: '127.0.0.1' } });
  });
  after(() => server?.stop());

  test('40 parallel wrong guesses and then the right one: only the allowed number reach the password check, the right one is refused, no 5xx', async () => {
    const email = 'agent@demo.test';
    const form = await openForm(server.url);
    // Every guess that gets past the throttle stops at the user lookup (just before the hash) until released,
    // so all 41 are in flight together: what the finding describes. Only the count of reservations can stop them.
    const store = server.authority.store;
    const lookup = store.findUserByEmail.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let evaluated = 0;
    store.findUserByEmail = async (e: string) => {
      if (e.toLowerCase() === email) {
        evaluated++;
        await gate;
      }
      return lookup(e);
    };
    try {
      let answered = 0;
      const counted = (p: Promise<Answer>) => p.finally(() => answered++);
      const wrong = Array.from({ length: 40 }, (_, i) => counted(post(form, email, `wrong-guess-${i}`, '203.0.113.10')));
      await waitFor(() => evaluated + answered === 40, 'each wrong guess is at the password check or answered');
      const right = counted(post(form, email, DEMO_PASSWORD, '203.0.113.10'));
      await waitFor(() => evaluated + answered === 41, 'the right guess is at the password check or answered');
      release();
      const answers = await Promise.all(wrong);
      const rightAnswer = await right;

      noServerErrors([...answers, rightAnswer]);
      assert.equal(rightAnswer.signedIn, false, `the right password among the guesses was accepted (${rightAnswer.status})`);
      assert.equal(rightAnswer.status, 429);
      assert.match(rightAnswer.body, THROTTLED);
      assert.equal(evaluated, ACCOUNT_LIMITS.free, 'only the free attempts reached the password hash');
      assert.deepEqual(statuses(answers), { 401: ACCOUNT_LIMITS.free, 429: 40 - ACCOUNT_LIMITS.free });
    } finally {
      release();
      store.findUserByEmail = lookup;
    }

    // A back-off, not a lock-out: once the short delay has passed, the right password signs in.
    clock.advance(ACCOUNT_LIMITS.baseDelayMs);
    assert.equal((await post(form, email, DEMO_PASSWORD, '203.0.113.10')).signedIn, true);
  });

  test('failures for made-up emails from one forwarded address throttle that address only, not another address or another account', async () => {
    const form = await openForm(server.url);
    const spray = await Promise.all(Array.from({ length: ADDRESS_LIMITS.free }, (_, i) => post(form, `made-up-${i}@nowhere.test`, 'guess', '203.0.113.20')));
    noServerErrors(spray);
    assert.deepEqual(statuses(spray), { 401: ADDRESS_LIMITS.free }, 'each made-up email fails once: no account limit is reached');

    const sameAddress = await post(form, 'made-up-next@nowhere.test', 'guess', '203.0.113.20');
    assert.equal(sameAddress.status, 429, 'the spraying address is throttled');
    assert.match(sameAddress.body, THROTTLED);
    // A client cannot escape by sending its own X-Forwarded-For through the proxy: the proxy appends the real address.
    assert.equal((await post(form, 'made-up-next@nowhere.test', 'guess', '198.51.100.99, 203.0.113.20')).status, 429);

    assert.equal((await post(form, 'made-up-other@nowhere.test', 'guess', '203.0.113.21')).status, 401, 'another forwarded address is not throttled');
    assert.equal((await post(form, 'admin@demo.test', DEMO_PASSWORD, '203.0.113.21')).signedIn, true, 'a real user elsewhere signs in');
  });

  test('an attacker failing on a real account for many rounds delays its owner by at most a few minutes, never locks them out', async () => {
    const email = 'agent2@demo.test';
    const attacker = await openForm(server.url);
    const maxDelaySeconds = ACCOUNT_LIMITS.maxDelayMs / 1000;
    let delay = 0;
    // Each round: 40 parallel guesses from 40 addresses, then wait exactly as long as the server says.
    for (let round = 0; round < 12; round++) {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(attacker, email, `guess-${round}-${i}`, `198.51.100.${i + 1}`)));
      noServerErrors(answers);
      assert.equal(answers.filter((a) => a.signedIn).length, 0);
      assert.equal(answers.filter((a) => a.status === 401).length, round === 0 ? ACCOUNT_LIMITS.free : 1, `round ${round}: one guess per delay`);
      delay = maxRetryAfter(answers);
      assert.ok(delay >= 1 && delay <= maxDelaySeconds, `round ${round}: Retry-After ${delay} s is at most ${maxDelaySeconds} s`);
      clock.advance(delay * 1000);
    }
    assert.equal(delay, maxDelaySeconds, 'the back-off reached its cap');

    // Hammering while throttled neither counts nor prolongs the delay.
    const hammer = await Promise.all(Array.from({ length: 40 }, (_, i) => post(attacker, email, `guess-x-${i}`, `198.51.100.${i + 1}`)));
    assert.equal(hammer.filter((a) => a.status === 401).length, 1);
    const owner = await openForm(server.url);
    const refused = await post(owner, email, DEMO_PASSWORD, '192.0.2.50');
    assert.equal(refused.status, 429, 'the owner is delayed');
    assert.match(refused.body, THROTTLED);
    assert.ok(Number(refused.retryAfter) <= maxDelaySeconds, `Retry-After ${refused.retryAfter} s`);
    const more = await Promise.all(Array.from({ length: 40 }, (_, i) => post(attacker, email, `guess-y-${i}`, `198.51.100.${i + 1}`)));
    assert.deepEqual(statuses(more), { 429: 40 });
    assert.ok(maxRetryAfter(more) <= Number(refused.retryAfter), 'refused attempts did not extend the delay');

    clock.advance(Number(refused.retryAfter) * 1000);
    assert.equal((await post(owner, email, DEMO_PASSWORD, '192.0.2.50')).signedIn, true, 'after the back-off the owner signs in');
    // The success cleared the account's count: a typo now is an ordinary wrong password.
    assert.equal((await post(owner, email, 'typo', '192.0.2.50')).status, 401);
  });

  test('a known and an unknown email are throttled the same way and get the same answers', async () => {
    const form = await openForm(server.url);
    const run = async (email: string, address: string) => {
      const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => post(form, email, `guess-${i}`, address)));
      const next = await post(form, email, 'guess', address);
      // The page echoes the email into the form; everything else must be identical.
      const page = (a: Answer) => a.body.replaceAll(email, 'EMAIL');
      return {
        statuses: statuses(burst),
        throttled: { status: next.status, retryAfter: next.retryAfter, page: page(next) },
        wrong: burst.some((a) => a.status === 401) ? page(burst.find((a) => a.status === 401)!) : null,
      };
    };
    const known = await run('supervisor@demo.test', '192.0.2.60');
    const unknown = await run('nobody-here@demo.test', '192.0.2.61');
    assert.deepEqual(known.statuses, { 401: ACCOUNT_LIMITS.free, 429: 40 - ACCOUNT_LIMITS.free });
    assert.equal(known.throttled.status, 429);
    assert.match(known.throttled.page, THROTTLED);
    assert.deepEqual(unknown, known);
  });
});

describe('login throttle without LOCKSTEP_TRUST_PROXY', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ clock: new ManualClock() });
  });
  after(() => server?.stop());

  test('X-Forwarded-For is ignored: every request counts under the socket address', async () => {
    const form = await openForm(server.url);
    const spray = await Promise.all(Array.from({ length: ADDRESS_LIMITS.free }, (_, i) => post(form, `made-up-${i}@nowhere.test`, 'guess', `203.0.113.${i + 1}`)));
    noServerErrors(spray);
    assert.deepEqual(statuses(spray), { 401: ADDRESS_LIMITS.free });
    const other = await post(form, 'made-up-other@nowhere.test', 'guess', '203.0.113.200');
    assert.equal(other.status, 429, 'a different X-Forwarded-For does not make a different client');
    assert.match(other.body, THROTTLED);
  });
});

describe('LOCKSTEP_TRUST_PROXY parsing', () => {
  test('addresses, CIDR ranges and named ranges are accepted; unset or empty trusts no proxy', () => {
    assert.deepEqual(parseTrustProxy(undefined), []);
    assert.deepEqual(parseTrustProxy(''), []);
    assert.deepEqual(parseTrustProxy(' 10.0.0.5, 10.1.0.0/16 ,::1,fd00::/8,loopback'), ['10.0.0.5', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback']);
    assert.deepEqual(configFromEnv({ LOCKSTEP_TRUST_PROXY: '127.0.0.1' }).trustProxy, ['127.0.0.1']);
    assert.deepEqual(configFromEnv({}).trustProxy, []);
  });

  for (const [bad, message] of [
    ['10.0.0.300', /LOCKSTEP_TRUST_PROXY must be a comma-separated list of proxy addresses or CIDR ranges.*"10\.0\.0\.300"/],
    ['10.0.0.0/33', /"10\.0\.0\.0\/33" in "10\.0\.0\.0\/33" is neither an IP address nor a CIDR range/],
    ['proxy.example.com', /"proxy\.example\.com"/],
    ['10.0.0.1,', /"\(empty\)" in "10\.0\.0\.1,"/],
    ['10.0.0.1 10.0.0.2', /"10\.0\.0\.1 10\.0\.0\.2"/],
    ['true', /must name the proxies to trust, not "true"/],
    ['*', /must name the proxies to trust, not "\*"/],
    ['0.0.0.0/0', /must name the proxies to trust, not "0\.0\.0\.0\/0"/],
  ] as const) {
    test(`"${bad}" is refused with a message naming the variable and the entry`, () => {
      assert.throws(() => configFromEnv({ LOCKSTEP_TRUST_PROXY: bad }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('lockstep start with a bad LOCKSTEP_TRUST_PROXY exits with that message, without starting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-trust-proxy-'));
    try {
      const { code, stdout, stderr } = await runCli(['start'], { PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOCKSTEP_TRUST_PROXY: '10.0.0.0/99' });
      assert.notEqual(code, 0);
      assert.match(stderr, /LOCKSTEP_TRUST_PROXY must be a comma-separated list of proxy addresses or CIDR ranges/);
      assert.doesNotMatch(stdout, /Lockstep is running/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('LoginThrottle (core)', () => {
  test('its tables stay bounded under a spray of random emails and addresses, and forget quiet keys', () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle(clock, { maxKeys: 1000 });
    for (let i = 0; i < 20_000; i++) {
      const r = throttle.reserve(`${Math.random().toString(36).slice(2)}@spray.test`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      assert.equal(r.ok, true);
      if (r.ok) r.attempt.failed();
    }
    assert.ok(throttle.accounts.size <= 1000, `${throttle.accounts.size} account keys`);
    assert.ok(throttle.addresses.size <= 1000, `${throttle.addresses.size} address keys`);

    clock.advance(FORGET_AFTER_MS + 1);
    throttle.reserve('one@spray.test', '192.0.2.1');
    assert.equal(throttle.accounts.size, 1, 'quiet keys were dropped to make room');
  });

  test('addresses are counted as IPv4 for IPv4-mapped IPv6, and by /64 for IPv6', () => {
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  test('emails are one account whatever their case', () => {
    const throttle = new LoginThrottle(new ManualClock());
    for (let i = 0; i < ACCOUNT_LIMITS.free; i++) {
      const r = throttle.reserve(i % 2 ? 'Agent@Demo.Test' : 'agent@demo.test', `192.0.2.${i}`);
      assert.equal(r.ok, true);
    }
    const next = throttle.reserve('AGENT@demo.test', '192.0.2.99');
    assert.equal(next.ok, false);
    assert.equal(!next.ok && next.retryAfterMs, ACCOUNT_LIMITS.baseDelayMs);
  });
});
