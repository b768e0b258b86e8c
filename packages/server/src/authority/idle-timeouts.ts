import { exemptsFromIdleTimeout, idleTimeoutSecondsFor } from '../core/idle-policy.ts';
import type { LiveToken } from '../core/live-token.ts';
import type { AccessToken } from '../core/records.ts';
import type { Store } from '../store/store.ts';
import type { AccessTokenCache } from './access-token-cache.ts';
import type { OrgSettingsCache } from './org-settings.ts';

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
    for (const i of await this.store.listInteractions()) {
      if (exemptsFromIdleTimeout(i)) this.#exempting.set(i.userId, (this.#exempting.get(i.userId) ?? new Set()).add(i.id));
    }
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
   * The user's interactions or groups changed (here or on another node): read them again and re-apply the
   * timeout to the user's tokens here. While exempt, none of them idles out; when the last exempting
   * interaction ends, each token's idle clock restarts from `now`.
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

  async #groupsOf(orgId: string, userId: string): Promise<string[]> {
    let groups = this.#groups.get(userId);
    if (!groups) this.#groups.set(userId, (groups = await this.store.listGroupIdsOfUser(orgId, userId)));
    return groups;
  }
}
