import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AUTOMATION_BASIC, clientCredentialsToken, pool } from './bench-kit.ts';
import { compareInterleaved, type Comparison } from './interleave.ts';

export interface PeerResult {
  peer: string;
  issuance: Comparison;
  introspection: Comparison & { tokens: number };
}

const ROUNDS = 6;
const SECONDS = 4;
/** Live tokens introspected in turn; fewer than node-oidc-provider's in-memory adapter keeps (an LRU of 1,000). */
const INTROSPECTED = 500;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTOMATION_BASIC };
const ISSUE_BODY = 'grant_type=client_credentials&scope=api';

interface Endpoints { name: string; url: string; token: string; introspect: string }

async function child(script: string): Promise<{ child: ChildProcess; message: Record<string, string> }> {
  const c = fork(fileURLToPath(new URL(script, import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [message] = (await once(c, 'message')) as [Record<string, string>];
  return { child: c, message };
}

function load(e: Endpoints, path: string, bodies: string[]) {
  return async (seconds: number) => {
    const r = await autocannon({ url: e.url, connections: 50, duration: seconds, requests: bodies.map((body) => ({ method: 'POST', path, headers: FORM, body })) });
    if (r.non2xx || r.errors || r.timeouts) throw new Error(`${e.name} ${path}: ${r.non2xx} refused, ${r.errors} errors, ${r.timeouts} timeouts`);
    return r;
  };
}

/**
 * node-oidc-provider 9 (bench/peer-server.ts: in-memory adapter, opaque tokens, a client like our demo `automation`)
 * and Lockstep (the embedded default, bench/servers.ts), each in a process of its own, measured in interleaved rounds:
 * client_credentials issuance, then introspection of live tokens. Each server is idle while the other runs.
 */
export async function peer(log: (s: string) => void): Promise<PeerResult> {
  const lockstep = await child('./servers.ts');
  const provider = await child('./peer-server.ts');
  try {
    const ours: Endpoints = { name: 'Lockstep', url: lockstep.message.lockstepUrl!, token: '/oauth/token', introspect: '/oauth/introspect' };
    const theirs: Endpoints = { name: 'node-oidc-provider', url: provider.message.url!, token: '/token', introspect: '/token/introspection' };
    log(`  client_credentials issuance (POST ${ours.token} vs ${theirs.token}, client_secret_basic), ${ROUNDS} rounds × 2 runs × ${SECONDS} s:`);
    const issuance = await compareInterleaved(log,
      { name: ours.name, run: load(ours, ours.token, [ISSUE_BODY]) }, { name: theirs.name, run: load(theirs, theirs.token, [ISSUE_BODY]) },
      { rounds: ROUNDS, seconds: SECONDS, targetRatio: 1.5 });

    const tokensOf = async (e: Endpoints) => {
      const tokens: string[] = [];
      await pool(Array.from({ length: INTROSPECTED }), 8, async () => void tokens.push(await clientCredentialsToken(e.url, e.token, ISSUE_BODY)));
      return tokens.map((t) => `token=${encodeURIComponent(t)}`);
    };
    const [ourTokens, theirTokens] = [await tokensOf(ours), await tokensOf(theirs)];
    log(`  introspection of ${INTROSPECTED} live tokens each (POST ${ours.introspect} vs ${theirs.introspect}):`);
    const introspection = await compareInterleaved(log,
      { name: ours.name, run: load(ours, ours.introspect, ourTokens) }, { name: theirs.name, run: load(theirs, theirs.introspect, theirTokens) },
      { rounds: ROUNDS, seconds: SECONDS, targetRatio: 3 });
    const active = await fetch(theirs.url + theirs.introspect, { method: 'POST', headers: FORM, body: theirTokens[0]! });
    if (!((await active.json()) as { active?: boolean }).active) throw new Error('node-oidc-provider no longer knows the first introspected token: its answers were "inactive"');
    return { peer: 'node-oidc-provider 9 (in-memory adapter, opaque tokens)', issuance, introspection: { ...introspection, tokens: INTROSPECTED } };
  } finally {
    for (const c of [lockstep.child, provider.child]) {
      c.disconnect();
      c.kill();
    }
  }
}
