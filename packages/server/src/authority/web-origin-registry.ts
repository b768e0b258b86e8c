import { originAllowed, webOriginsOf, type WebOrigins } from '../core/web-origins.ts';
import type { Store } from '../store/store.ts';

/**
 * Every client's allowed web origins, for CORS answers before any client is named (a preflight
 * carries no credentials). Loaded once, dropped whenever a client is created, changed or deleted.
 */
export class WebOriginRegistry {
  #origins: WebOrigins | null = null;
  #loading: Promise<WebOrigins> | null = null;
  #generation = 0;

  constructor(private readonly store: Store) {}

  /** Known without reading the store: true/false, or undefined before the first load. */
  peek(origin: string): boolean | undefined {
    return this.#origins ? originAllowed(this.#origins, origin) : undefined;
  }

  async allows(origin: string): Promise<boolean> {
    return originAllowed(this.#origins ?? (await this.#load()), origin);
  }

  invalidate(): void {
    this.#generation++;
    this.#origins = null;
    this.#loading = null;
  }

  #load(): Promise<WebOrigins> {
    const generation = this.#generation;
    return (this.#loading ??= this.store.listAllClients().then((clients) => {
      const origins = webOriginsOf(clients);
      if (generation === this.#generation) this.#origins = origins;
      return origins;
    }).finally(() => {
      if (generation === this.#generation) this.#loading = null;
    }));
  }
}
