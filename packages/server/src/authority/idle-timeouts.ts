import { exemptsFromIdleTimeout, idleTimeoutSecondsFor } from '../core/idle-policy.ts';
import type { LiveToken } from '../core/live-token.ts';
import type { AccessToken, INTERACTION_STATES, Interaction } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import type { AccessTokenCache } from './access-token-cache.ts';
import type { OrgSettingsCache } from './org-settings.ts';

export type InteractionChange = Pick<Interaction, 'userId' | 'id' | 'type'> & { state: (typeof INTERACTION_STATES)[number] };

/**
 * Resolves which idle timeout applies to each token (org setting, group bundles, exemptions)
 * and re-applies it to the tokens in memory when any of those change.
 */
export class IdleTimeouts {
  /** userId → ids of the user's interactions that exempt them right now. */
  readonly #exempting = new Map<string, Set<string>>();
  /** userId → group ids, only fetched for orgs with group bundles on. */
  readonly #groups = new Map<string, string[]>();
  tokens!: AccessTokenCache;
  onReschedule: (token: LiveToken) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly settings: OrgSettingsCache,
  ) {}

  async loadExemptions(): Promise<void> {
    for (const i of await this.store.listInteractions()) if (exemptsFromIdleTimeout(i)) this.#exemptingOf(i.userId).add(i.id);
  }

  isExempt(userId: string | null): boolean {
    return userId != null && (this.#exempting.get(userId)?.size ?? 0) > 0;
  }

  async timeoutMsFor(token: Pick<AccessToken, 'orgId' | 'userId'>): Promise<number | null> {
    if (this.isExempt(token.userId)) return null;
    const { idle } = await this.settings.get(token.orgId);
    if (!idle.enableIdleTokenTimeout) return null;
    const groups = idle.inactivityTimeoutGroupsEnabled && token.userId ? await this.#groupsOf(token.orgId, token.userId) : null;
    const seconds = idleTimeoutSecondsFor(idle, groups);
    return seconds == null ? null : seconds * 1000;
  }

  /** A setting or a group changed: every token of the org gets its timeout again, at once. */
  async reapplyToOrg(orgId: string): Promise<void> {
    this.#groups.clear();
    for (const token of [...this.tokens.ofOrg(orgId)]) await this.#reapply(token);
  }

  /**
   * The interaction feed. While exempt, none of the user's tokens idles out; when the last
   * exempting interaction ends, each token's idle clock restarts from `now`.
   */
  async interactionChanged(i: InteractionChange, now: number, record: (t: LiveToken, now: number) => void): Promise<void> {
    const wasExempt = this.isExempt(i.userId);
    const set = this.#exemptingOf(i.userId);
    if (exemptsFromIdleTimeout(i)) set.add(i.id);
    else set.delete(i.id);
    if (!set.size) this.#exempting.delete(i.userId);
    const isExempt = this.isExempt(i.userId);
    if (wasExempt === isExempt) return;
    for (const token of [...this.tokens.ofUser(i.userId)]) {
      if (wasExempt) record(token, now);
      await this.#reapply(token);
    }
  }

  /**
   * Another node changed the user's interactions or groups: read them again and re-apply the timeout to the
   * user's tokens here, restarting their idle clocks if the user just left an exemption.
   */
  async reloadUser(userId: string, now: number, record: (t: LiveToken, now: number) => void): Promise<void> {
    this.#groups.delete(userId);
    const wasExempt = this.isExempt(userId);
    const exempting = (await this.store.listInteractions(userId)).filter(exemptsFromIdleTimeout);
    if (exempting.length) this.#exempting.set(userId, new Set(exempting.map((i) => i.id)));
    else this.#exempting.delete(userId);
    const restart = wasExempt && !this.isExempt(userId);
    for (const token of [...this.tokens.ofUser(userId)]) {
      if (restart) record(token, now);
      await this.#reapply(token);
    }
  }

  async #reapply(token: LiveToken) {
    if (token.revokedAt != null) return;
    token.idleTimeoutMs = await this.timeoutMsFor(token);
    this.onReschedule(token);
  }

  #exemptingOf(userId: string): Set<string> {
    let set = this.#exempting.get(userId);
    if (!set) this.#exempting.set(userId, (set = new Set()));
    return set;
  }

  async #groupsOf(orgId: string, userId: string): Promise<string[]> {
    let groups = this.#groups.get(userId);
    if (!groups) this.#groups.set(userId, (groups = await this.store.listGroupIdsOfUser(orgId, userId)));
    return groups;
  }
}
