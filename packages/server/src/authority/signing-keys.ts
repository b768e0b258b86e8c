import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { Store } from '../store/store.ts';

const ALG = 'RS256';

/** The ID-token signing key: made once, kept in the store, published at /oauth/jwks. */
export class SigningKeys {
  private constructor(
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
    readonly publicJwks: { keys: JWK[] },
    private readonly publicKey: CryptoKey,
  ) {}

  static async load(store: Store, now: number): Promise<SigningKeys> {
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
    return new SigningKeys(
      stored.kid,
      (await importJWK(jwk, ALG)) as CryptoKey,
      { keys: [pub] },
      (await importJWK(pub, ALG)) as CryptoKey,
    );
  }

  sign(claims: JWTPayload, typ = 'JWT'): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: ALG, kid: this.kid, typ }).sign(this.privateKey);
  }

  /**
   * Verifies one of our own ID tokens (header `typ: JWT`: a back-channel logout token, `logout+jwt`, is not one);
   * `ignoreExpiry` for id_token_hint, which may be expired (OIDC RP-initiated logout), and then says whether it was.
   */
  async verifyIdToken(jwt: string, issuer: string, now: number, ignoreExpiry = false): Promise<{ payload: JWTPayload; expired: boolean }> {
    const { payload } = await jwtVerify(jwt, this.publicKey, {
      issuer,
      algorithms: [ALG],
      typ: 'JWT',
      ...(ignoreExpiry ? { currentDate: new Date(0) } : { currentDate: new Date(now) }),
    });
    if (payload.events !== undefined) throw new Error('a logout token is not an ID token');
    return { payload, expired: typeof payload.exp !== 'number' || payload.exp * 1000 <= now };
  }
}
