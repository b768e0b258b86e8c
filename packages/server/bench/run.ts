// npm run bench: startup time (build vs tsx), HTTP hot path vs bare Fastify, issuance and introspection vs node-oidc-provider, idle expirer lateness and memory, logout fan-out to 10,000 channels, the cluster. Results go to
// bench/results/latest.{json,md}. Ratios matter more than absolute numbers on a shared machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { cluster, clusterRows } from './cluster.ts';
import { fanout } from './fanout.ts';
import { httpThroughput } from './http-throughput.ts';
import { idleExpirer } from './idle-expirer.ts';
import { comparisonRow } from './interleave.ts';
import { peer } from './peer.ts';
import { startup, startupRows } from './startup.ts';

const log = (s: string) => console.log(s);
const only = process.argv.slice(2);
const want = (name: string) => !only.length || only.includes(name);

const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: cpus().length };
if (want('startup')) {
  log('Startup (spawn `lockstep start` → first answer of GET /.well-known/openid-configuration; from dist vs the tsx sources):');
  results.startup = await startup(log);
}
if (want('http')) {
  log('HTTP hot path (autocannon, 50 connections; interleaved rounds against a bare Fastify route in the same process):');
  results.http = await httpThroughput(log);
}
if (want('peer')) {
  log('Against node-oidc-provider 9 (autocannon, 50 connections; interleaved rounds, each server in its own process):');
  results.peer = await peer(log);
}
if (want('expirer')) {
  log('Idle expirer (100,000 tokens, 5 s timeout, deadlines spread over 10 s):');
  results.expirer = await idleExpirer(log);
}
if (want('fanout')) {
  log('Logout fan-out (10,000 channels: 5,000 users × 2 clients, universal logout on, 1,000 logouts):');
  results.fanout = await fanout(log);
}
if (want('cluster')) {
  log('Cluster (two nodes on PostgreSQL + Redis: logout on A → token_revoked on B, hot path on a node, 1,000,000-token idle expirer):');
  results.cluster = await cluster(log);
}

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('latest.json', dir), JSON.stringify(results, null, 2) + '\n');
writeFileSync(new URL('latest.md', dir), markdown(results));
console.log('\n' + markdown(results));

function markdown(r: any): string {
  const rows: string[] = ['| measure | value |', '|---|---|'];
  if (r.startup) rows.push(...startupRows(r.startup));
  if (r.http) {
    rows.push(comparisonRow('HEAD /api/v2/tokens/me (token check + activity, idle on) / bare Fastify HEAD', r.http));
  }
  if (r.peer) {
    rows.push(comparisonRow('client_credentials issuance: Lockstep / node-oidc-provider', r.peer.issuance));
    rows.push(comparisonRow(`introspection of a live token (${r.peer.introspection.tokens} in turn): Lockstep / node-oidc-provider`, r.peer.introspection));
  }
  if (r.expirer) {
    rows.push(`| idle expirer lateness (${r.expirer.tokens} tokens) | p50 ${r.expirer.latenessMs.p50} ms, p99 ${r.expirer.latenessMs.p99} ms, max ${r.expirer.latenessMs.max} ms |`);
    rows.push(`| memory per tracked token | ${r.expirer.bytesPerToken} bytes |`);
  }
  if (r.fanout) {
    const f = r.fanout;
    rows.push(`| logout → other client's token_revoked (${f.channels} channels, ${f.logouts} logouts; negatives clamped to 0) | p50 ${f.latencyClampedMs.p50} ms, p99 ${f.latencyClampedMs.p99} ms, max ${f.latencyClampedMs.max} ms (target p99 <= ${f.target.p99Ms} ms) |`);
    rows.push(`| same, as measured (${f.latencyMs.negative} events beat the response) | p50 ${f.latencyMs.p50} ms, p99 ${f.latencyMs.p99} ms, min ${f.latencyMs.min} ms |`);
    rows.push(`| memory per open channel (server heap + external; rss) | ${f.memory.bytesPerChannel} bytes; ${f.memory.rssBytesPerChannel} bytes (target <= ${f.target.bytesPerChannel} bytes) |`);
  }
  if (r.cluster) rows.push(...clusterRows(r.cluster));
  return `# Lockstep benchmark (${r.at}, node ${r.node}, ${r.cpus} CPUs)\n\n${rows.join('\n')}\n`;
}
