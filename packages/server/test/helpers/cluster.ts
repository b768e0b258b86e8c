/**
 * A real cluster for tests: N `lockstep start` processes on one PostgreSQL database and one Redis, behind a
 * round-robin TCP balancer whose address is the shared issuer (as a load balancer's would be).
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawnCli, waitForOutput, type Cli } from './cli.ts';
import { freePort } from './services.ts';
import { DEMO_PASSWORD, DEMO_SECRET } from './test-server.ts';

/** Several nodes compile and start at once on two cores, beside other test files. */
const NODE_STARTUP_MS = 60_000;

export interface Node {
  name: string;
  /** The node's own address (tests call a chosen node directly). */
  url: string;
  cli: Cli;
  kill(): Promise<void>;
}

export interface Cluster {
  /** The balancer: what clients and the issuer name. */
  issuer: string;
  nodes: Node[];
  /** Starts one more node on the same database and bus. */
  addNode(name: string): Promise<Node>;
  stop(): Promise<void>;
}

export async function startCluster(names: string[], opts: { databaseUrl: string; redisUrl: string; env?: Record<string, string>; together?: boolean }): Promise<Cluster> {
  const nodes: Node[] = [];
  const balancer = await roundRobin(() => nodes.filter((n) => n.cli.child.exitCode === null && n.cli.child.signalCode === null));
  const issuer = `http://127.0.0.1:${(balancer.address() as { port: number }).port}`;
  const addNode = async (name: string): Promise<Node> => {
    const port = await freePort();
    const cli = spawnCli(['start'], {
      PORT: String(port), LOCKSTEP_ISSUER: issuer, LOCKSTEP_DATABASE_URL: opts.databaseUrl, LOCKSTEP_REDIS_URL: opts.redisUrl,
      LOCKSTEP_DEMO_PASSWORD: DEMO_PASSWORD, LOCKSTEP_DEMO_CLIENT_SECRET: DEMO_SECRET, LOCKSTEP_DEMO_CRM_PORT: 'off',
      LOCKSTEP_IDLE_TIMEOUT_FLOOR_SECONDS: '1', LOG_LEVEL: 'warn', ...opts.env,
    });
    await waitForOutput(cli, /Lockstep is running at /, NODE_STARTUP_MS);
    const node: Node = {
      name, url: `http://127.0.0.1:${port}`, cli,
      kill: async () => {
        if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
        cli.child.kill('SIGKILL');
        await cli.exited;
      },
    };
    nodes.push(node);
    return node;
  };
  // One at a time unless asked: starting together races for migrations, the signing key and the demo seed.
  if (opts.together) await Promise.all(names.map(addNode));
  else for (const name of names) await addNode(name);
  return {
    issuer, nodes, addNode,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      balancer.close();
    },
  };
}

/** A TCP balancer: each connection goes to the next live node in turn (WebSockets included). */
async function roundRobin(live: () => Node[]): Promise<Server> {
  let next = 0;
  const server = createServer((client: Socket) => {
    const targets = live();
    if (!targets.length) return client.destroy();
    const target = targets[next++ % targets.length]!;
    const upstream = connect(Number(new URL(target.url).port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => (client.destroy(), upstream.destroy());
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
