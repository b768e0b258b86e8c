import { hostname } from 'node:os';
import { pino } from 'pino';
import { createAuthority, type Authority } from '../authority/authority.ts';
import type { Bus } from '../bus/events.ts';
import { effectiveIssuer, type Config } from '../config.ts';
import { systemClock } from '../core/clock.ts';
import { logOptions } from '../log-options.ts';
import { openBus, openStore } from '../server.ts';

/**
 * The authority of a one-shot command, beside any running server on the same store. It joins as a node
 * without a lease (it serves nothing): its endings go to the cluster log and it waits, as every revoker does,
 * until each node holding a lease has applied them; with Redis the nodes' channels hear of them at once.
 * Nothing is started: the running servers deliver the back-channel logouts it queues (they poll the outbox).
 */
export async function withCliAuthority<T>(config: Config, run: (a: Authority) => Promise<T>): Promise<T> {
  const log = pino(logOptions(config.logLevel), pino.destination(2));
  const nodeId = `cli-${hostname()}-${process.pid}`;
  const store = await openStore(config);
  let bus: Bus | null = null;
  try {
    bus = await openBus(config, log, nodeId);
    const authority = await createAuthority({
      config, store, bus, clock: systemClock, log, nodeId,
      issuer: () => effectiveIssuer(config) ?? 'http://issuer-unknown-to-the-cli.invalid',
    });
    return await run(authority);
  } finally {
    await bus?.close();
    await store.close();
  }
}
