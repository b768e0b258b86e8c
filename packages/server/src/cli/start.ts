import type { Config } from '../config.ts';
import { maskUrl } from '../log-options.ts';
import { DEMO_USERS } from '../seed/demo.ts';
import { startServer } from '../server.ts';

/** A stop that takes longer than this (a request that does not end) exits with 1. */
const SHUTDOWN_LIMIT_MS = 10_000;
/** Back-channel deliveries in flight at the signal may finish within this long (one attempt lasts at most 5 s). */
const DELIVERY_GRACE_MS = 5_000;

export async function start(config: Config) {
  const server = await startServer(config);
  const { log } = server.authority;
  if (config.idleTimeoutFloorSeconds < 300) {
    log.warn({ floorSeconds: config.idleTimeoutFloorSeconds }, 'LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS lowers the idle-timeout floor below 300 s: for tests and demos only');
  }
  printBanner(server, config);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    await server.close({ graceMs: DELIVERY_GRACE_MS });
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function printBanner(server: Awaited<ReturnType<typeof startServer>>, config: Config) {
  const { url, crmUrl, demo } = server;
  const lines = [
    '',
    `Lockstep is running at ${url}`,
    `  OpenID configuration  ${url}/.well-known/openid-configuration`,
    `  Admin console         ${url}/admin`,
    `  Browser SDK           ${url}/sdk/lockstep.js`,
    config.databaseUrl ? `  Data                  ${maskUrl(config.databaseUrl)} (cluster node ${server.authority.membership.nodeId}${config.redisUrl ? `, bus ${maskUrl(config.redisUrl)}` : ''})` : `  Data                  ${config.dataDir}`,
  ];
  if (demo) {
    lines.push(
      '',
      demo.seeded ? 'Demo org seeded ("Demo Contact Center"):' : 'Demo org ("Demo Contact Center"):',
      `  users     ${DEMO_USERS.map((u) => u.email).join(', ')}`,
      `  password  ${demo.password ?? '(printed when the demo org was seeded; set LOCKSTEP_DEMO_PASSWORD to choose one)'}`,
      '  clients   agent-desktop, crm-embedded, desktop-app (public); crm-backend, automation (confidential)',
      `  secret    ${demo.clientSecret ?? '(printed when the demo org was seeded; set LOCKSTEP_DEMO_CLIENT_SECRET to choose one)'}`,
      '',
      'Demo clients (sign in as agent@demo.test):',
      `  ${url}/demo/agent   the agent app`,
      `  ${url}/demo/crm     a CRM embedding the agent widget in an iframe`,
      ...(crmUrl ? [`  ${crmUrl}   the same CRM on another site (cross-site iframe: the widget signs in through a popup)`] : []),
    );
  }
  console.log(lines.join('\n') + '\n');
}

