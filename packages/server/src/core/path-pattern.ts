import { BadRequest } from './errors.ts';

/** A compiled excluded-path pattern: `matches` runs in time linear in the path for a given pattern, no regular expression. */
export interface PathPattern {
  readonly source: string;
  /** `parts`: the request path split once by `pathParts`, for every pattern of the org. */
  matches(parts: readonly string[]): boolean;
}

/** A request path in segments; a trailing slash is ignored. */
export const pathParts = (path: string): string[] => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).split('/');

const ALLOWED = /^\/api\/[A-Za-z0-9\-._~*/{}]*$/;
export const MAX_PATTERN_LENGTH = 200;

/**
 * An excluded path: a path under /api/ where `*` matches within one segment and a trailing `/**`
 * matches everything below. A trailing slash on the request path is ignored.
 */
export function compilePathPattern(source: string): PathPattern {
  if (source.length > MAX_PATTERN_LENGTH || !ALLOWED.test(source)) {
    throw BadRequest(`inactivityTimeoutExclusions entry "${source.slice(0, MAX_PATTERN_LENGTH)}" must be an /api/... path; * matches one segment, a trailing /** everything below`);
  }
  const deep = source.endsWith('/**');
  const segments = (deep ? source.slice(0, -3) : source).split('/').map(segmentMatcher);
  return {
    source,
    matches(parts) {
      if (deep ? parts.length < segments.length : parts.length !== segments.length) return false;
      for (let i = 0; i < segments.length; i++) if (!segments[i]!(parts[i]!)) return false;
      return true;
    },
  };
}

/**
 * One segment `a*b*c`: the first piece is a prefix, the last a suffix, the ones between are found
 * left to right, each at its leftmost place (leftmost is always right for `*`, so no backtracking).
 */
function segmentMatcher(pattern: string): (segment: string) => boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return (s) => s === pattern;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter(Boolean);
  return (s) => {
    if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
    let at = first.length;
    const end = s.length - last.length;
    for (const piece of middle) {
      const found = s.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
