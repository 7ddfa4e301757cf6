import type { ConfState, Entry, GroupStorage, HardState, Snapshot } from '@myqueue/raft';
import type { PartitionStateMachine } from '../partition/state-machine.js';
import { decodeSnapshotHeader, encodeSnapshot } from '../partition/snapshot.js';

/**
 * A group's Raft storage with partition-aware snapshots (memory and disk stay bounded):
 * - compaction stores a header-only snapshot (offsets, positions, producer windows: a few KB), never
 *   a copy of the messages, which are already in `mq_batches` and immutable below the header's offset;
 * - a snapshot received from a leader is stored header-only too (the state machine has just written
 *   its batches to `mq_batches`);
 * - the full snapshot (header + batches) is materialized only when the Raft core reads `data` to send
 *   it to a follower that is too far behind; the core keeps it for the length of that transfer.
 */
export class SnapshotAwareStorage implements GroupStorage {
  readonly #inner: GroupStorage;
  readonly #sm: PartitionStateMachine;

  constructor(inner: GroupStorage, sm: PartitionStateMachine) {
    this.#inner = inner;
    this.#sm = sm;
  }

  get group(): string {
    return this.#inner.group;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.#inner.initialState();
  }
  firstIndex(): number {
    return this.#inner.firstIndex();
  }
  lastIndex(): number {
    return this.#inner.lastIndex();
  }
  term(index: number): number {
    return this.#inner.term(index);
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.#inner.entries(lo, hi, maxBytes);
  }
  setHardState(hs: HardState): void {
    this.#inner.setHardState(hs);
  }
  append(entries: readonly Entry[]): void {
    this.#inner.append(entries);
  }

  snapshot(): Snapshot {
    const stored = this.#inner.snapshot();
    if (stored.meta.index === 0 || stored.data.byteLength === 0) return stored;
    const sm = this.#sm;
    let full: Uint8Array | undefined;
    return {
      meta: stored.meta,
      // Materialized on first read: RaftNode reads `data` only to send InstallSnapshot chunks.
      get data(): Uint8Array {
        full ??= sm.materializeSnapshot(decodeSnapshotHeader(stored.data).header);
        return full;
      },
    };
  }

  applySnapshot(snapshot: Snapshot): void {
    this.#inner.applySnapshot({ meta: snapshot.meta, data: headerOnly(snapshot.data) });
  }

  createSnapshot(snapshot: Snapshot, retain: number): void {
    this.#inner.createSnapshot({ meta: snapshot.meta, data: headerOnly(snapshot.data) }, retain);
  }
}

function headerOnly(data: Uint8Array): Uint8Array {
  if (data.byteLength === 0) return data;
  return encodeSnapshot(decodeSnapshotHeader(data).header, null);
}
