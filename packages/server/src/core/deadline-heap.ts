/**
 * A binary min-heap of (time, item). The idle expirer keeps one entry per token at its next
 * deadline; activity does not touch the heap (the entry is re-checked, and re-pushed later, when it comes due).
 */
export class DeadlineHeap<T> {
  readonly #at: number[] = [];
  readonly #items: T[] = [];

  get size() {
    return this.#at.length;
  }

  peekTime(): number | undefined {
    return this.#at[0];
  }

  push(at: number, item: T): void {
    this.#at.push(at);
    this.#items.push(item);
    this.#up(this.#at.length - 1);
  }

  /** Removes and returns the earliest entry if its time is <= now. */
  popDue(now: number): [at: number, item: T] | undefined {
    if (!this.#at.length || this.#at[0]! > now) return undefined;
    const entry: [number, T] = [this.#at[0]!, this.#items[0]!];
    const lastAt = this.#at.pop()!;
    const lastItem = this.#items.pop()!;
    if (this.#at.length) {
      this.#at[0] = lastAt;
      this.#items[0] = lastItem;
      this.#down(0);
    }
    return entry;
  }

  /** Keeps only the entries `keep` accepts, and restores the heap order: O(n). */
  retain(keep: (at: number, item: T) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.#at.length; i++) {
      if (!keep(this.#at[i]!, this.#items[i]!)) continue;
      this.#at[n] = this.#at[i]!;
      this.#items[n++] = this.#items[i]!;
    }
    this.#at.length = n;
    this.#items.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #swap(i: number, j: number) {
    [this.#at[i], this.#at[j]] = [this.#at[j]!, this.#at[i]!];
    [this.#items[i], this.#items[j]] = [this.#items[j]!, this.#items[i]!];
  }

  #up(i: number) {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent]! <= this.#at[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number) {
    const n = this.#at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < n && this.#at[l]! < this.#at[least]!) least = l;
      if (r < n && this.#at[r]! < this.#at[least]!) least = r;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
