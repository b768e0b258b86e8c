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
    let stored = (await store.listSigningKeys()).at(-1);
    if (!stored) {
      const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
      const jwk = await exportJWK(privateKey);
      const kid = await calculateJwkThumbprint(jwk);
      stored = { kid, alg: ALG, privateJwk: JSON.stringify(jwk), createdAt: now };
      await store.addSigningKey(stored);
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

  /** Verifies one of our own JWTs; `ignoreExpiry` for id_token_hint, which may be expired (OIDC RP-initiated logout). */
  async verify(jwt: string, issuer: string, ignoreExpiry = false): Promise<JWTPayload> {
    const { payload } = await jwtVerify(jwt, this.publicKey, {
      issuer,
      algorithms: [ALG],
      ...(ignoreExpiry ? { currentDate: new Date(0) } : {}),
    });
    return payload;
  }
}
