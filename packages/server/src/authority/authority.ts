import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '../bus/events.ts';
import type { Config } from '../config.ts';
import type { ClusterLogEntry } from '../core/records.ts';
import type { Clock } from '../core/clock.ts';
import { LoginThrottle } from '../core/login-throttle.ts';
import type { Store } from '../store/store.ts';
import { TokenLedger } from './ledger.ts';
import { ClusterMembership, SoloMembership, type Membership } from './membership.ts';
import { Metrics } from './metrics.ts';
import { countingErrors } from './store-errors.ts';
import { Retention } from './retention.ts';
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
  /** Every access token's life: admission, endings, idle expiry. */
  ledger: TokenLedger;
  /** This node among the others (a cluster), or alone (the embedded default). */
  membership: Membership;
  hub: NotificationHub;
  backchannel: BackchannelDelivery;
  loginThrottle: LoginThrottle;
  retention: Retention;
  /** Allowed browser origins of every client (CORS). */
  webOrigins: WebOriginRegistry;
  /** This authority's Prometheus metrics (its own registry), served at /metrics. */
  metrics: Metrics;
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
  /** Set: this process is one node of a cluster sharing the store. */
  nodeId?: string | null;
}): Promise<Authority> {
  const { clock, log, bus } = parts;
  const metrics = new Metrics({ cluster: !!parts.nodeId });
  const store = countingErrors(parts.store, (operation) => metrics.storeErrors.inc({ operation }));
  bus.onError((kind) => metrics.busErrors.inc({ kind }));
  const settings = new OrgSettingsCache(store);
  const keys = SigningKeys.open(store, clock.now());
  const backchannel = new BackchannelDelivery({ store, clock, keys, issuer: parts.issuer, log, allow: parts.config.backchannelAllow, metrics });
  let ledger: TokenLedger | undefined;
  const webOrigins = new WebOriginRegistry(store);
  const hub = new NotificationHub({ bus, clock, log, store, tokenByHash: (hash) => ledger!.find(hash) });
  const apply = async (entries: ClusterLogEntry[]) => {
    hub.tokensEnded(await ledger!.apply(entries));
    if (entries.some((e) => e.kind === 'org_changed')) webOrigins.invalidate();
  };
  const membership = parts.nodeId
    ? new ClusterMembership(parts.nodeId, bus, { store, log, apply, metrics })
    : new SoloMembership(`solo-${hostname()}-${process.pid}`, bus, { store, log, apply, metrics });
  ledger = await TokenLedger.open({ store, bus, clock, log, settings, membership, metrics, onBackchannelQueued: () => backchannel.poke() });
  metrics.watch({
    trackedTokens: () => ledger!.trackedCount,
    openChannels: () => hub.size,
    outboxStats: () => store.backchannelOutboxStats(),
    now: () => clock.now(),
    leaseHeld: parts.nodeId ? () => membership.held() : null,
  });
  return {
    demoCrmOrigin: () => null,
    ...parts,
    store,
    metrics,
    keys,
    hub,
    backchannel,
    settings,
    ledger,
    membership,
    loginThrottle: new LoginThrottle(clock),
    webOrigins,
    retention: new Retention({ store, clock, log }),
  };
}
