/**
 * A min-heap of timed events for the simulator's virtual clock. Events at the same time run in the
 * order they were scheduled (a sequence number breaks ties), so a run never depends on heap internals.
 */
export class EventQueue<T> {
  readonly #heap: { time: number; seq: number; item: T }[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(time: number, item: T): void {
    const heap = this.#heap;
    heap.push({ time, seq: this.#seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i], heap[parent])) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.#heap[0]?.time;
  }

  pop(): { time: number; item: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        swap(heap, i, m);
        i = m;
      }
    }
    return { time: top.time, item: top.item };
  }

  /** Removes every event for which `drop` returns true (e.g. the timers of a crashed node). */
  removeWhere(drop: (item: T) => boolean): void {
    const keep = this.#heap.filter((e) => !drop(e.item));
    this.#heap.length = 0;
    // Re-inserting keeps the original sequence numbers, so the relative order is unchanged.
    for (const e of keep.sort((a, b) => (less(a, b) ? -1 : 1))) this.#heap.push(e);
  }
}

function less(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

function swap<T>(heap: T[], i: number, j: number): void {
  const tmp = heap[i];
  heap[i] = heap[j]!;
  heap[j] = tmp;
}
