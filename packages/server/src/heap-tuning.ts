import { setFlagsFromString } from 'node:v8';

/**
 * A server process holds its channels and tokens for minutes and drops them at random, which leaves V8's old-space
 * pages part-used: with V8's defaults a full GC compacts only pages at least 70 % free, so committed memory kept
 * climbing while the live heap stayed flat (`npm run soak`: RSS +10 % in ten minutes, live heap +2 %). Optimized for
 * size, a full GC also compacts pages 20 % free: RSS stays within a few per cent, and the authenticated hot path
 * measured no slower (docs/testing.md has the figures). Set when the server starts, for the whole
 * process; it costs the start about 15 % (npm run bench -- startup).
 */
export function compactOldSpace(): void {
  setFlagsFromString('--optimize-for-size');
}
