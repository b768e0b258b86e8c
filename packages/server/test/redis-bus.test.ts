import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { LockstepEvent } from '../src/bus/events.ts';
import { RedisBus, type RedisBusLog } from '../src/bus/redis-bus.ts';
import { freePort, redisProblem, REDIS_SERVER, requireService, SHARED_REDIS_URL, startRedisServer, stopRedisServer } from './helpers/services.ts';
import { MASK } from '../src/log-options.ts';

async function waitFor(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function presenceChanged(orgId: string, at = Date.now()): LockstepEvent {
  return { type: 'presence.changed', orgId, userId: 'user-1', presence: 'Available', routingStatus: 'IDLE', at };
}

function tokenRevoked(orgId: string): LockstepEvent {
  return {
    type: 'token.revoked',
    orgId,
    userId: null,
    tokens: [{ id: 'tok-1', hash: 'secret-token-hash', clientId: 'client-1' }],
    reason: 'universal_logout',
    initiatingClientId: null,
    at: Date.now(),
  };
}

/** Subscribes and records the orgId of every event the handler hears, which the tests use as a label. */
function heardBy(bus: RedisBus): string[] {
  const heard: string[] = [];
  bus.subscribe((event) => 'orgId' in event && heard.push(event.orgId));
  return heard;
}

function recordingLog(): RedisBusLog & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  };
}

describe('RedisBus on a shared Redis', requireService('Redis', await redisProblem(SHARED_REDIS_URL)), () => {
  const channel = `lockstep:test:${randomUUID()}`;
  const logA = recordingLog();
  const logB = recordingLog();
  let a: RedisBus;
  let b: RedisBus;
  let raw: Redis;

  before(async () => {
    a = await RedisBus.connect(SHARED_REDIS_URL, { nodeId: 'node-a', channel, log: logA });
    b = await RedisBus.connect(SHARED_REDIS_URL, { nodeId: 'node-b', channel, log: logB });
    raw = new Redis(SHARED_REDIS_URL);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    raw?.disconnect();
  });

  test('connect resolves connected and logs the transition', () => {
    assert.equal(a.connected, true);
    assert.equal(b.connected, true);
    assert.ok(logA.lines.some((line) => line.level === 'info' && line.msg === 'Redis bus connected'));
  });

  test('an event reaches the other node once and the publisher’s own handler once', async () => {
    const heardByA = heardBy(a);
    const heardByB = heardBy(b);

    await a.publish(tokenRevoked('first'));
    assert.deepEqual(heardByA, ['first'], 'the publisher’s own handlers run before publish resolves');
    await waitFor(() => heardByB.length === 1, 2_000, 'B hears the first event');

    // Redis delivers one channel's messages in order: once A hears B's reply, A's own echo of 'first'
    // (which Redis sent earlier) has been processed and dropped; the same argument holds for B.
    await b.publish(presenceChanged('reply'));
    await waitFor(() => heardByA.length >= 2, 2_000, 'A hears the reply');
    await a.publish(presenceChanged('last'));
    await waitFor(() => heardByB.length >= 3, 2_000, 'B hears the last event');

    assert.deepEqual(heardByA, ['first', 'reply', 'last']);
    assert.deepEqual(heardByB, ['first', 'reply', 'last']);
  });

  test('events from one publisher arrive in publish order', async () => {
    const heardByB = heardBy(b);
    const labels = Array.from({ length: 50 }, (_, i) => `ordered-${i}`);
    await Promise.all(labels.map((label) => a.publish(presenceChanged(label))));
    await waitFor(() => heardByB.length === labels.length, 3_000, 'B hears every ordered event');
    assert.deepEqual(heardByB, labels);
  });

  test('malformed messages are dropped with a warning that leaves out the payload; the bus keeps working', async () => {
    const heardByB = heardBy(b);
    const warningsBefore = logB.lines.filter((line) => line.level === 'warn').length;
    const malformed = [
      'not json {',
      JSON.stringify({ from: 'node-x', events: [{ type: 'no.such.event', orgId: 'o' }] }),
      JSON.stringify({ from: 'node-x', events: [{ ...tokenRevoked('missing-at'), at: undefined }] }),
      JSON.stringify({ from: 'node-x', events: [{ ...tokenRevoked('bad-tokens'), tokens: [{ id: 'x' }] }] }),
      JSON.stringify({ from: 'node-x', events: [{ ...presenceChanged('bad-presence'), presence: 'Sleeping' }] }),
      JSON.stringify({ from: 'node-x', events: ['not an event'] }),
      JSON.stringify({ from: 'node-x', events: Array.from({ length: 2001 }, () => presenceChanged('too-many')) }),
      JSON.stringify({ from: 'node-x', event: presenceChanged('one-event-envelope') }),
      JSON.stringify({ events: [presenceChanged('no-from')] }),
      JSON.stringify([1, 2, 3]),
    ];
    for (const message of malformed) await raw.publish(channel, message);

    await a.publish(presenceChanged('still-working'));
    await waitFor(() => heardByB.length === 1, 2_000, 'B hears the event after the malformed ones');

    assert.deepEqual(heardByB, ['still-working']);
    const warnings = logB.lines.filter((line) => line.level === 'warn').slice(warningsBefore);
    assert.equal(warnings.length, malformed.length);
    for (const warning of warnings) assert.equal(warning.msg, 'Redis bus dropped a malformed message');
    const logged = JSON.stringify(logB.lines);
    assert.ok(!logged.includes('secret-token-hash') && !logged.includes('missing-at'), 'payloads never reach the log');
  });

  test('events published together travel as one message; a bad event in it is dropped, the others delivered', async () => {
    const heardByB = heardBy(b);
    const messages: string[] = [];
    const listener = raw.duplicate();
    try {
      await listener.subscribe(channel);
      listener.on('message', (_channel: string, message: string) => messages.push(message));
      const labels = Array.from({ length: 20 }, (_, i) => `together-${i}`);
      await Promise.all(labels.map((label) => a.publish(presenceChanged(label))));
      await waitFor(() => heardByB.length === labels.length, 3_000, 'B hears every event published together');
      assert.deepEqual(heardByB, labels);
      assert.equal(messages.length, 1, 'one Redis message carried them');

      const warningsBefore = logB.lines.filter((line) => line.level === 'warn').length;
      await raw.publish(channel, JSON.stringify({ from: 'node-x', events: [presenceChanged('good-1'), { type: 'no.such.event' }, presenceChanged('good-2')] }));
      await waitFor(() => heardByB.length === labels.length + 2, 3_000, 'B hears the good events of a mixed message');
      assert.deepEqual(heardByB.slice(labels.length), ['good-1', 'good-2']);
      assert.equal(logB.lines.filter((line) => line.level === 'warn').length - warningsBefore, 1);
    } finally {
      listener.disconnect();
    }
  });

  test('a throwing handler does not keep the event from the other handlers', async () => {
    const stop = b.subscribe(() => {
      throw new Error('handler bug');
    });
    const heardByB = heardBy(b);
    await a.publish(presenceChanged('after-throw'));
    await waitFor(() => heardByB.length === 1, 2_000, 'the second handler hears the event');
    stop();
    assert.ok(logB.lines.some((line) => line.msg === 'Redis bus handler threw'));
  });

  test('close is idempotent; a closed bus refuses to publish', async () => {
    const c = await RedisBus.connect(SHARED_REDIS_URL, { nodeId: 'node-c', channel });
    await Promise.all([c.close(), c.close()]);
    await c.close();
    assert.equal(c.connected, false);
    await assert.rejects(c.publish(presenceChanged('after-close')), /closed/);
  });
});

describe('RedisBus through a Redis outage', requireService('Redis', existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} not found; install redis-server to run these tests`), () => {
  const channel = `lockstep:test:${randomUUID()}`;
  let port: number;
  let url: string;
  let redisServer: ChildProcess | undefined;
  let a: RedisBus;
  let b: RedisBus;

  before(async () => {
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redisServer = await startRedisServer(port);
    a = await RedisBus.connect(url, { nodeId: 'node-a', channel });
    b = await RedisBus.connect(url, { nodeId: 'node-b', channel });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await stopRedisServer(redisServer);
  });

  test('publish fails fast while Redis is down, and both nodes reconnect and resubscribe when it returns', async () => {
    const statesOfA: boolean[] = [];
    a.onStateChange((connected) => statesOfA.push(connected));
    const heardByA = heardBy(a);
    const heardByB = heardBy(b);

    await stopRedisServer(redisServer);
    await waitFor(() => !a.connected && !b.connected, 5_000, 'both buses notice Redis is gone');
    assert.deepEqual(statesOfA, [false]);

    const startedAt = performance.now();
    await assert.rejects(a.publish(presenceChanged('during-outage')), /Redis bus publish failed/);
    assert.ok(performance.now() - startedAt < 2_500, 'publish rejects within the bound');
    assert.deepEqual(heardByA, ['during-outage'], 'local handlers ran although Redis was down');

    redisServer = await startRedisServer(port);
    await waitFor(() => a.connected && b.connected, 5_000, 'both buses are connected again');
    assert.deepEqual(statesOfA, [false, true]);

    await a.publish(presenceChanged('after-recovery'));
    await waitFor(() => heardByB.length === 1, 2_000, 'B hears an event published after the recovery');
    assert.deepEqual(heardByB, ['after-recovery']);
  });

  test('publish to a Redis that hangs (connection open, no answers) rejects after the bound', async () => {
    const heardByB = heardBy(b);
    redisServer!.kill('SIGSTOP');
    try {
      const startedAt = performance.now();
      await assert.rejects(a.publish(presenceChanged('during-freeze')), /Redis bus publish failed: Command timed out/);
      assert.ok(performance.now() - startedAt < 3_000, 'publish rejects within the bound');
    } finally {
      redisServer!.kill('SIGCONT');
    }
    await a.publish(presenceChanged('after-freeze'));
    await waitFor(() => heardByB.includes('after-freeze'), 2_000, 'B hears an event published after the freeze');
    // The timed-out PUBLISH was already in Redis' socket buffer, so it is delivered late: a rejected
    // publish may still arrive, which receivers' idempotence has to absorb.
    assert.deepEqual(heardByB, ['during-freeze', 'after-freeze']);
  });
});

test('connect rejects promptly with a clear error, and no password, when Redis is unreachable', async () => {
  const port = await freePort(); // nothing listens there
  const startedAt = performance.now();
  await assert.rejects(RedisBus.connect(`redis://:hunter2@127.0.0.1:${port}`, { nodeId: 'node-a' }), (err: Error) => {
    assert.match(err.message, new RegExp(`not reachable within .*ECONNREFUSED`));
    assert.ok(err.message.includes(`redis://:${MASK}@127.0.0.1:${port}`), err.message);
    assert.ok(!err.message.includes('hunter2'));
    return true;
  });
  assert.ok(performance.now() - startedAt < 7_000);
});
