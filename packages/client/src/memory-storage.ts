import type { StorageLike } from './types.ts';

/** Storage in this page's memory: what a frame gets when the browser denies it sessionStorage. */
export class MemoryStorage implements StorageLike {
  readonly #items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  keys(): string[] {
    return [...this.#items.keys()];
  }
}

/**
 * `sessionStorage`, or memory when the browser denies it: a third-party frame (a widget in a CRM on another site)
 * in a browser that blocks third-party cookies throws a SecurityError on the mere read of `window.sessionStorage`.
 * The session then lives as long as the frame; the tabs still share it through BroadcastChannel where that works.
 */
export function sessionStorageOrMemory(): StorageLike {
  try {
    const storage = (globalThis as { sessionStorage?: StorageLike }).sessionStorage;
    if (storage) {
      storage.getItem('lockstep:probe');
      return storage;
    }
  } catch {
    // denied
  }
  return new MemoryStorage();
}
