import type { Logger } from 'pino';
import type { Bus } from '../bus/events.ts';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { LoginThrottle } from '../core/login-throttle.ts';
import type { AccessToken } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { AccessTokenCache } from './access-token-cache.ts';
import { ActivityRecorder } from './activity.ts';
import { SigningKeys } from './signing-keys.ts';

/** Everything a request handler needs, built once per server. Routes get this, never globals. */
export interface Authority {
  config: Config;
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  keys: SigningKeys;
  tokens: AccessTokenCache;
  activity: ActivityRecorder;
  loginThrottle: LoginThrottle;
  /** The issuer URL; known once the server listens. */
  issuer(): string;
}

export async function createAuthority(parts: {
  config: Config;
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  issuer: () => string;
}): Promise<Authority> {
  const idleTimeoutOf = async (_token: AccessToken): Promise<number | null> => null;
  return {
    ...parts,
    keys: await SigningKeys.load(parts.store, parts.clock.now()),
    tokens: new AccessTokenCache(parts.store, idleTimeoutOf),
    activity: new ActivityRecorder(parts.store, (err) => parts.log.error({ err }, 'activity write-back failed')),
    loginThrottle: new LoginThrottle(parts.clock),
  };
}
