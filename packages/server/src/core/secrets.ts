import * as crypto from 'node:crypto';
import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';

/** Prefixes make a leaked credential recognisable to secret scanners and to people. */
export const TOKEN_PREFIX = {
  accessToken: 'lsat_',
  refreshToken: 'lsrt_',
  authCode: 'lsac_',
  signInSession: 'lsss_',
  clientSecret: 'lscs_',
} as const;

export function randomToken(prefix: string, bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** One-shot hashing (Node >= 20.12) skips the Hash object: this runs on every API request. */
const oneShot = (crypto as { hash?: (alg: string, data: string, encoding: 'base64url') => string }).hash;

/** What we store instead of a bearer credential. */
export function sha256(value: string): string {
  return oneShot ? oneShot('sha256', value, 'base64url') : createHash('sha256').update(value).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(password: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash`, all parameters kept so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, , , , salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'));
  return timingSafeEqual(key, Buffer.from(hash, 'base64url'));
}

/** A password to burn CPU on when the user does not exist, so timing does not reveal which emails exist. */
export const DUMMY_PASSWORD_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
