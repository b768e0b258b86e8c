import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { Store } from '../store/store.ts';

const ALG = 'RS256';

interface Loaded {
  kid: string;
  privateKey: CryptoKey;
  publicJwks: { keys: JWK[] };
  publicKey: CryptoKey;
}

/**
 * The ID-token signing key: made once, kept in the store, published at /oauth/jwks. Loaded (on a new store, made:
 * an RSA key takes 100-250 ms) in the background from `open`, so the server builds its routes and listens meanwhile;
 * what signs or verifies waits for it, and `ready()` says when it is there (or why it is not).
 */
export class SigningKeys {
  readonly #loaded: Promise<Loaded>;

  private constructor(loading: Promise<Loaded>) {
    this.#loaded = loading;
    loading.catch(() => {}); // the failure is answered by ready() and by each use, not as an unhandled rejection
  }

  static open(store: Store, now: number): SigningKeys {
    return new SigningKeys(load(store, now));
  }

  async ready(): Promise<void> {
    await this.#loaded;
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    return (await this.#loaded).publicJwks;
  }

  async sign(claims: JWTPayload, typ = 'JWT'): Promise<string> {
    const { kid, privateKey } = await this.#loaded;
    return new SignJWT(claims).setProtectedHeader({ alg: ALG, kid, typ }).sign(privateKey);
  }

  /**
   * Verifies one of our own ID tokens (header `typ: JWT`: a back-channel logout token, `logout+jwt`, is not one);
   * `ignoreExpiry` for id_token_hint, which may be expired (OIDC RP-initiated logout), and then says whether it was.
   */
  async verifyIdToken(jwt: string, issuer: string, now: number, ignoreExpiry = false): Promise<{ payload: JWTPayload; expired: boolean }> {
    const { payload } = await jwtVerify(jwt, (await this.#loaded).publicKey, {
      issuer,
      algorithms: [ALG],
      typ: 'JWT',
      ...(ignoreExpiry ? { currentDate: new Date(0) } : { currentDate: new Date(now) }),
    });
    if (payload.events !== undefined) throw new Error('a logout token is not an ID token');
    return { payload, expired: typeof payload.exp !== 'number' || payload.exp * 1000 <= now };
  }
}

async function load(store: Store, now: number): Promise<Loaded> {
  // The oldest key, as ensureSigningKey answers: every node signs with the same one.
  let stored = (await store.listSigningKeys())[0];
  if (!stored) {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    // Nodes starting together on an empty store may each make one: the store keeps the first, all use it.
    stored = await store.ensureSigningKey({ kid, alg: ALG, privateJwk: JSON.stringify(jwk), createdAt: now });
  }
  const jwk = JSON.parse(stored.privateJwk) as JWK;
  const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
  const pub: JWK = { ...publicJwk, kid: stored.kid, alg: ALG, use: 'sig' };
  return {
    kid: stored.kid,
    privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
    publicJwks: { keys: [pub] },
    publicKey: (await importJWK(pub, ALG)) as CryptoKey,
  };
}
