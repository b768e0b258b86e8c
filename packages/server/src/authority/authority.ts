import type { Logger } from 'pino';
import type { Bus } from '../bus/events.ts';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { LoginThrottle } from '../core/login-throttle.ts';
import type { Store } from '../store/store.ts';
import { AccessTokenCache } from './access-token-cache.ts';
import { ActivityRecorder } from './activity.ts';
import { IdleExpirer } from './idle-expirer.ts';
import { Retention } from './retention.ts';
import { IdleTimeouts } from './idle-timeouts.ts';
import { OrgSettingsCache } from './org-settings.ts';
import { SigningKeys } from './signing-keys.ts';
import { WebOriginRegistry } from './web-origin-registry.ts';
import { BackchannelDelivery } from '../notify/backchannel-delivery.ts';
import { NotificationHub } from '../notify/hub.ts';

/** Everything a request handler needs, built once per server. Routes get this, never globals. */
export interface Authority {
  config: Config;
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  keys: SigningKeys;
  settings: OrgSettingsCache;
  idle: IdleTimeouts;
  tokens: AccessTokenCache;
  activity: ActivityRecorder;
  expirer: IdleExpirer;
  hub: NotificationHub;
  backchannel: BackchannelDelivery;
  loginThrottle: LoginThrottle;
  retention: Retention;
  /** Allowed browser origins of every client (CORS). */
  webOrigins: WebOriginRegistry;
  /** The issuer URL; known once the server listens. */
  issuer(): string;
  /** Origin of the demo CRM host page (a second site), or null when it is not served. */
  demoCrmOrigin(): string | null;
}

export async function createAuthority(parts: {
  config: Config;
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  issuer: () => string;
  demoCrmOrigin?: () => string | null;
}): Promise<Authority> {
  const { store, clock, log, bus } = parts;
  const settings = new OrgSettingsCache(store);
  const idle = new IdleTimeouts(store, settings);
  const tokens = new AccessTokenCache(store, (t) => idle.timeoutMsFor(t));
  const expirer = new IdleExpirer({ store, clock, tokens, bus, log });
  idle.tokens = tokens;
  idle.onReschedule = (t) => expirer.schedule(t);
  tokens.onTrack = (t) => expirer.schedule(t);

  await idle.loadExemptions();
  for (const record of await store.listLiveAccessTokens(clock.now())) await tokens.add(record);

  const keys = await SigningKeys.load(store, clock.now());
  return {
    demoCrmOrigin: () => null,
    ...parts,
    keys,
    hub: new NotificationHub({ bus, clock, log }),
    backchannel: new BackchannelDelivery({ store, clock, keys, issuer: parts.issuer, log, allow: parts.config.backchannelAllow }),
    settings,
    idle,
    tokens,
    activity: new ActivityRecorder(store, settings, (err) => log.error({ err }, 'activity write-back failed')),
    expirer,
    loginThrottle: new LoginThrottle(clock),
    webOrigins: new WebOriginRegistry(store),
    retention: new Retention({ store, clock, log }),
  };
}
