import { createHash } from 'node:crypto';
import { safeEqual } from './secrets.ts';

/** RFC 7636: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function verifyS256(verifier: string, challenge: string): boolean {
  if (!PKCE_VALUE.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier).digest('base64url'), challenge);
}
