import type autocannon from 'autocannon';
import { median, round } from './cluster-kit.ts';

/** One side of a comparison: a load run of `seconds` against it. */
export interface Side {
  name: string;
  run(seconds: number): Promise<autocannon.Result>;
}

export interface Comparison {
  ours: string;
  theirs: string;
  rounds: { oursReqPerSec: number; theirsReqPerSec: number; ratio: number; oursP99Ms: number; theirsP99Ms: number }[];
  /** Ours / theirs, in requests a second: the median of the rounds' ratios and their spread. */
  ratio: { median: number; min: number; max: number };
  oursReqPerSec: number;
  theirsReqPerSec: number;
  secondsPerRun: number;
  target: { ratio: number; met: boolean };
}

/**
 * Runs both sides in turn, `rounds` times, alternating which goes first, so drift on a shared machine falls on both;
 * the median of the rounds' ratios is what counts, with its spread beside it. A short warm-up run of each goes first.
 */
export async function compareInterleaved(log: (s: string) => void, ours: Side, theirs: Side, opts: { rounds: number; seconds: number; targetRatio: number }): Promise<Comparison> {
  await theirs.run(2);
  await ours.run(2);
  const rounds: Comparison['rounds'] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const [o, t] = i % 2
      ? [await ours.run(opts.seconds), await theirs.run(opts.seconds)]
      : await theirs.run(opts.seconds).then(async (t) => [await ours.run(opts.seconds), t] as const);
    const r = {
      oursReqPerSec: Math.round(o.requests.average), theirsReqPerSec: Math.round(t.requests.average),
      ratio: round(o.requests.average / t.requests.average, 3), oursP99Ms: o.latency.p99, theirsP99Ms: t.latency.p99,
    };
    rounds.push(r);
    log(`    round ${i + 1}: ${theirs.name} ${r.theirsReqPerSec} req/s (p99 ${r.theirsP99Ms} ms), ${ours.name} ${r.oursReqPerSec} req/s (p99 ${r.oursP99Ms} ms), ratio ${r.ratio}`);
  }
  const ratios = rounds.map((r) => r.ratio);
  const result: Comparison = {
    ours: ours.name, theirs: theirs.name, rounds,
    ratio: { median: round(median(ratios), 3), min: Math.min(...ratios), max: Math.max(...ratios) },
    oursReqPerSec: Math.round(median(rounds.map((r) => r.oursReqPerSec))),
    theirsReqPerSec: Math.round(median(rounds.map((r) => r.theirsReqPerSec))),
    secondsPerRun: opts.seconds,
    target: { ratio: opts.targetRatio, met: false },
  };
  result.target.met = result.ratio.median >= opts.targetRatio;
  log(`  ${ours.name} / ${theirs.name}: median ratio ${result.ratio.median} (rounds ${result.ratio.min}–${result.ratio.max}); ` +
    `median ${result.oursReqPerSec} vs ${result.theirsReqPerSec} req/s; target >= ${opts.targetRatio}: ${result.target.met ? 'met' : 'NOT met'}`);
  return result;
}

/** A row of a results table for a comparison. */
export function comparisonRow(what: string, c: Comparison): string {
  return `| ${what} (${c.rounds.length} interleaved rounds × ${c.secondsPerRun} s) | median ratio ${c.ratio.median} (rounds ${c.ratio.min}–${c.ratio.max}); ` +
    `median ${c.oursReqPerSec} vs ${c.theirsReqPerSec} req/s (target >= ${c.target.ratio}: ${c.target.met ? 'met' : 'NOT met'}) |`;
}
