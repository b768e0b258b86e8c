import { formatDuration } from './format.ts';

/** Where a settings error from the server belongs: the field it names, or the form as a whole. */
export type ErrorTarget = { field: 'timeout' } | { field: 'bundle'; index: number | null } | { field: 'form' };

export function targetOf(message: string): ErrorTarget {
  const bundle = /inactivityTimeoutGroupBundles(?:\[(\d+)\]|\/(\d+))?/.exec(message);
  if (bundle) {
    const index = bundle[1] ?? bundle[2];
    return { field: 'bundle', index: index == null ? null : Number(index) };
  }
  if (/idleTokenTimeoutSeconds/.test(message)) return { field: 'timeout' };
  return { field: 'form' };
}

/**
 * The server's message in the console's words: field names as the admin sees them and
 * seconds as minutes or hours. The server's facts (limits, values) are kept as they are.
 */
export function humanize(message: string): string {
  return message
    .replace(/^body\/?/, '')
    .replace(/must be from (\d+) to (\d+) seconds, got (\d+)/, (_m, lo: string, hi: string, got: string) =>
      `must be from ${formatDuration(Number(lo))} to ${formatDuration(Number(hi))}; you entered ${formatDuration(Number(got))}`)
    .replace(/\bis (\d+) s;/, (_m, s: string) => `is ${formatDuration(Number(s))};`)
    .replace(/\(now (\d+) s\)/g, (_m, s: string) => `(now ${formatDuration(Number(s))})`)
    .replace(/inactivityTimeoutGroupBundles\[(\d+)\]\.timeoutSeconds/g, (_m, i: string) => `the timeout of group bundle ${Number(i) + 1}`)
    .replace(/\bidleTokenTimeoutSeconds\b/g, 'the idle timeout')
    .replace(/inactivityTimeoutExclusions entry/g, 'Excluded path')
    .replace(/inactivityTimeoutExclusions\/(\d+)/g, (_m, i: string) => `Excluded path ${Number(i) + 1}`)
    .replace(/\binactivityTimeoutExclusions\b/g, 'the excluded paths')
    .replace(/\bmust NOT\b/g, 'must not')
    .replace(/^./, (c) => c.toUpperCase());
}
