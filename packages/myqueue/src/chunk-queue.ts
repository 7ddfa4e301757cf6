/**
 * The consumer's read-ahead buffer: each fetch answer goes in as one chunk tagged with its owner (the
 * partition it came from) and items come out one by one in arrival order. Per item it costs an index
 * increment: no per-record push, no lookup of the owner by key, and no array shifting.
 */
interface Chunk<O, T> {
  readonly owner: O;
  readonly items: readonly T[];
  next: number;
}

export class ChunkQueue<O, T> {
  #chunks: Chunk<O, T>[] = [];
  #head = 0;
  #size = 0;
  #lastOwner: O | undefined;

  /** Items not taken yet. */
  get size(): number {
    return this.#size;
  }

  /** The owner of the item the last take() returned. */
  get lastOwner(): O | undefined {
    return this.#lastOwner;
  }

  /** Appends `items` (kept by reference; the caller must not change them afterwards). */
  push(owner: O, items: readonly T[]): void {
    if (items.length === 0) return;
    this.#chunks.push({ owner, items, next: 0 });
    this.#size += items.length;
  }

  /** The oldest item not taken yet, or undefined when empty. */
  take(): T | undefined {
    while (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head];
      if (c.next < c.items.length) {
        this.#size--;
        this.#lastOwner = c.owner;
        return c.items[c.next++];
      }
      this.#head++;
      // Drop the consumed chunks now and then, not on every one.
      if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
        this.#chunks = this.#chunks.slice(this.#head);
        this.#head = 0;
      }
    }
    return undefined;
  }

  /** Removes every item of `owner` not taken yet; returns how many. */
  drop(owner: O): number {
    let dropped = 0;
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      if (c.owner !== owner) continue;
      dropped += c.items.length - c.next;
      c.next = c.items.length;
    }
    this.#size -= dropped;
    return dropped;
  }
}
