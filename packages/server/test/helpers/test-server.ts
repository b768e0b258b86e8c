import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { logOptions } from '../../src/log-options.ts';
import { configFromEnv, type Config } from '../../src/config.ts';
import type { Clock } from '../../src/core/clock.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export const DEMO_PASSWORD = 'demo-password-for-tests';
export const DEMO_SECRET = 'demo-client-secret-for-tests';

export interface TestServer extends RunningServer {
  dataDir: string;
  config: Config;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/** A real server on an ephemeral loopback port with its own SQLite directory and the demo org seeded. */
export async function startTestServer(opts: { clock?: Clock; env?: Record<string, string>; dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lockstep-test-'));
  const config = configFromEnv({
    PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...opts.env,
  });
  const server = await startServer(config, { clock: opts.clock, log: pino(logOptions(config.logLevel)) });
  return {
    ...server,
    dataDir,
    config,
    stop: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
