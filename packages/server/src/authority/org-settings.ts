import { compilePathPattern, type PathPattern } from '../core/path-pattern.ts';
import { DEFAULT_ORG_SETTINGS, type OrgSettings } from '../core/records.ts';
import type { Store } from '../store/store.ts';

interface CachedSettings {
  settings: OrgSettings;
  excluded: PathPattern[];
}

/** Org settings kept in memory: the hot path reads them on every request (excluded paths). */
export class OrgSettingsCache {
  readonly #byOrg = new Map<string, CachedSettings>();

  constructor(private readonly store: Store) {}

  async get(orgId: string): Promise<OrgSettings> {
    return (this.#byOrg.get(orgId) ?? (await this.#load(orgId))).settings;
  }

  /** Synchronous view for the hot path; undefined until the org was loaded once. */
  peek(orgId: string): CachedSettings | undefined {
    return this.#byOrg.get(orgId);
  }

  async save(orgId: string, settings: OrgSettings): Promise<void> {
    await this.store.saveOrgSettings(orgId, settings);
    this.#byOrg.set(orgId, compile(settings));
  }

  /** Another node changed the org's settings: read them again (an org never loaded here stays unloaded). */
  async reload(orgId: string): Promise<void> {
    if (this.#byOrg.has(orgId)) await this.#load(orgId);
  }

  async #load(orgId: string): Promise<CachedSettings> {
    const cached = compile(withDefaults(await this.store.getOrgSettings(orgId)));
    this.#byOrg.set(orgId, cached);
    return cached;
  }
}

const compile = (settings: OrgSettings): CachedSettings => ({ settings, excluded: settings.inactivityTimeoutExclusions.flatMap(compiledOrNone) });

/** Settings saved by an older version lack the fields added since; they read as their defaults. */
function withDefaults(saved: OrgSettings | null): OrgSettings {
  const idle = { ...DEFAULT_ORG_SETTINGS.idle, ...saved?.idle };
  const unit = idle.inactivityTimeoutUnit;
  return {
    ...DEFAULT_ORG_SETTINGS, ...saved,
    idle: { ...idle, inactivityTimeoutGroupBundles: idle.inactivityTimeoutGroupBundles.map((b) => ({ ...b, inactivityTimeoutUnit: b.inactivityTimeoutUnit ?? unit })) },
  };
}

/** A pattern saved before today's rules (say, one a later version refuses) excludes nothing rather than failing the org. */
function compiledOrNone(pattern: string): PathPattern[] {
  try {
    return [compilePathPattern(pattern)];
  } catch {
    return [];
  }
}
