// Child process for the HTTP benchmark: the Lockstep server and a bare Fastify route side by side,
// so the load generator (the parent) does not share an event loop with either.
import Fastify from 'fastify';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../src/config.ts';
import { startServer } from '../src/server.ts';

const bare = Fastify({ logger: false });
bare.head('/bare', async (_request, reply) => reply.code(200).header('content-length', 0).send());
const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

const lockstep = await startServer(configFromEnv({
  PORT: '0', LOCKSTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'lockstep-bench-')), LOG_LEVEL: 'warn',
  LOCKSTEP_DEMO_PASSWORD: 'bench-password', LOCKSTEP_DEMO_CLIENT_SECRET: 'bench-secret',
}));
process.send!({ bareUrl, lockstepUrl: lockstep.url });
process.on('disconnect', () => process.exit(0));
