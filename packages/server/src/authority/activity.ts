import type { FastifyRequest } from 'fastify';
import type { LiveToken } from '../core/live-token.ts';
import type { Store } from '../store/store.ts';
import type { OrgSettingsCache } from './org-settings.ts';
import { pathParts } from '../core/path-pattern.ts';

export const ACTIVITY_FLUSH_MS = 1000;

/**
 * Records API activity per token in memory and writes it back coalesced, at most once per
 * token per flush interval; a crash loses at most one interval of activity.
 */
export class ActivityRecorder {
  readonly #dirty = new Map<string, LiveToken>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: OrgSettingsCache,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Whether this request resets the token's idle clock: every API call but
   * `GET|HEAD /api/v2/tokens/me?preserveIdleTTL=true` (a heartbeat), a call that says
   * `Lockstep-Activity: background` (polling), and the org's excluded paths.
   * (Notification-channel traffic never reaches here.)
   */
  counts(token: LiveToken, request: FastifyRequest): boolean {
    const url = request.url;
    if (url.startsWith('/api/v2/tokens/me?') && /(?:^|&)preserveIdleTTL=true(?:&|$)/.test(url.slice(18))) return false;
    if (request.headers['lockstep-activity'] === 'background') return false;
    const excluded = this.settings.peek(token.orgId)?.excluded;
    if (!excluded?.length) return true;
    const parts = pathParts(url.split('?', 1)[0]!);
    return !excluded.some((pattern) => pattern.matches(parts));
  }

  record(token: LiveToken, now: number): void {
    if (now > token.lastActivityAt) token.lastActivityAt = now;
    this.#dirty.set(token.id, token);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), ACTIVITY_FLUSH_MS).unref();
  }

  flush(): Promise<void> {
    if (!this.#dirty.size) return this.#flushing;
    const batch = [...this.#dirty.values()].map((t) => ({ id: t.id, lastActivityAt: t.lastActivityAt }));
    this.#dirty.clear();
    this.#flushing = this.#flushing.then(() => this.store.recordActivity(batch)).catch(this.onError);
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
