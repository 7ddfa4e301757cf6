/**
 * An in-memory RaftStorage for the simulator and tests that models what fsync means.
 *
 * The model (think of a process writing to a disk through the OS page cache):
 * - Every write (inside `transaction()`, or a lone write, which is its own transaction) changes the *live*
 *   state at once: reads see it, as a process reads back what it wrote before fsync.
 * - A transaction becomes *durable* only when it is synced. With `sync: 'auto'` (the default) that happens
 *   when the outermost transaction returns, like SQLite with synchronous=FULL, unless it was run with
 *   `transaction(fn, { sync: false })`: then it waits for the next synced one. With `sync: 'manual'` every
 *   committed transaction waits in an unsynced queue until `sync()` is called, so a simulator can split
 *   "written" from "synced" and crash in between.
 * - `crash()` kills the process: this instance closes and a new MemoryStorage is returned holding only the
 *   durable state. Unsynced transactions are lost whole (a transaction is atomic: all or nothing), except
 *   that `crash({ keepUnsynced: n })` lets the first n of them survive, modelling writes that reached the
 *   disk in order before the fsync returned (as a WAL does).
 * - A transaction that throws is rolled back (nested ones back to where they started), live state included.
 *
 * Entries and snapshots are stored by reference: callers must not mutate an Entry's data after handing it
 * over (the core never does).
 */
import type { GroupStorage, RaftStorage, TransactionOptions } from '../storage.js';
import type { ConfState, Entry, GroupId, HardState, Snapshot } from '../types.js';
import { StorageClosedError } from './errors.js';
import {
  checkAppend,
  checkApplySnapshot,
  checkCreateSnapshot,
  checkRange,
  checkTermIndex,
  compactTarget,
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  entrySize,
} from './log-util.js';

export interface MemoryStorageOptions {
  /**
   * 'auto' (default): a transaction is durable when the outermost `transaction()` returns.
   * 'manual': committed transactions stay unsynced until `sync()`; a crash before that loses them.
   */
  readonly sync?: 'auto' | 'manual';
}

export interface CrashOptions {
  /** How many of the oldest unsynced transactions reached the disk anyway. Default 0. */
  readonly keepUnsynced?: number;
}

/** One group's log: entries (compactIndex, compactIndex + entries.length], see LogBounds. */
interface GroupState {
  hardState: HardState;
  snapshot: Snapshot;
  compactIndex: number;
  compactTerm: number;
  entries: Entry[];
}

/** A write, journaled so it can be replayed onto the durable state when synced. Already validated. */
type Op =
  | { readonly kind: 'create'; readonly group: GroupId }
  | { readonly kind: 'drop'; readonly group: GroupId }
  | { readonly kind: 'hardState'; readonly group: GroupId; readonly hardState: HardState }
  | { readonly kind: 'append'; readonly group: GroupId; readonly entries: readonly Entry[] }
  | { readonly kind: 'applySnapshot'; readonly group: GroupId; readonly snapshot: Snapshot }
  | { readonly kind: 'createSnapshot'; readonly group: GroupId; readonly snapshot: Snapshot; readonly retain: number };

type State = Map<GroupId, GroupState>;

function newGroupState(): GroupState {
  return { hardState: EMPTY_HARD_STATE, snapshot: EMPTY_SNAPSHOT, compactIndex: 0, compactTerm: 0, entries: [] };
}

function lastIndexOf(s: GroupState): number {
  return s.compactIndex + s.entries.length;
}

function termOf(s: GroupState, index: number): number {
  checkTermIndex({ compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) }, index);
  return index === s.compactIndex ? s.compactTerm : s.entries[index - s.compactIndex - 1].term;
}

/** Performs one (already validated) write on a state. Used for both live and durable state. */
function applyOp(state: State, op: Op): void {
  if (op.kind === 'create') {
    if (!state.has(op.group)) state.set(op.group, newGroupState());
    return;
  }
  if (op.kind === 'drop') {
    state.delete(op.group);
    return;
  }
  const s = state.get(op.group)!;
  switch (op.kind) {
    case 'hardState':
      s.hardState = op.hardState;
      return;
    case 'append': {
      const skip = checkAppend({ compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) }, op.entries);
      if (skip === op.entries.length) return;
      const first = op.entries[skip].index;
      s.entries.length = first - s.compactIndex - 1;
      for (let i = skip; i < op.entries.length; i++) s.entries.push(op.entries[i]);
      return;
    }
    case 'applySnapshot':
      s.snapshot = op.snapshot;
      s.compactIndex = op.snapshot.meta.index;
      s.compactTerm = op.snapshot.meta.term;
      s.entries = [];
      return;
    case 'createSnapshot': {
      const target = compactTarget(
        { compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) },
        op.snapshot.meta.index,
        op.retain,
      );
      s.snapshot = op.snapshot;
      if (target > s.compactIndex) {
        s.compactTerm = termOf(s, target);
        s.entries = s.entries.slice(target - s.compactIndex);
        s.compactIndex = target;
      }
      return;
    }
  }
}

function cloneState(state: State): State {
  const copy: State = new Map();
  for (const [group, s] of state) copy.set(group, { ...s, entries: s.entries.slice() });
  return copy;
}

export class MemoryStorage implements RaftStorage {
  readonly #syncMode: 'auto' | 'manual';
  /** What survives a crash. */
  #durable: State;
  /** What reads see: durable + unsynced transactions + the open transaction. */
  #live: State;
  /** Committed but not yet synced transactions, oldest first ('manual' mode only). */
  #unsynced: Op[][] = [];
  /** Writes of the open (outermost) transaction; null when none is open. */
  #current: Op[] | null = null;
  #handles = new Map<GroupId, MemoryGroupStorage>();
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.#syncMode = options.sync ?? 'auto';
    this.#durable = new Map();
    this.#live = new Map();
  }

  group(group: GroupId): GroupStorage {
    this.#checkOpen();
    if (!this.#live.has(group)) this.#write({ kind: 'create', group });
    let handle = this.#handles.get(group);
    if (!handle) {
      handle = new MemoryGroupStorage(
        group,
        () => this.#stateOf(group),
        (op) => this.#write(op),
      );
      this.#handles.set(group, handle);
    }
    return handle;
  }

  groups(): GroupId[] {
    this.#checkOpen();
    return [...this.#live.keys()];
  }

  dropGroup(group: GroupId): void {
    this.#checkOpen();
    if (!this.#live.has(group)) return;
    this.#write({ kind: 'drop', group });
    this.#handles.delete(group);
  }

  transaction<T>(fn: () => T, options: TransactionOptions = {}): T {
    this.#checkOpen();
    const outer = this.#current === null;
    if (outer) this.#current = [];
    const mark = this.#current!.length;
    try {
      const result = fn();
      if (outer) this.#commit(options.sync ?? true);
      return result;
    } catch (error) {
      if (!this.#closed) this.#rollback(mark, outer);
      throw error;
    }
  }

  /** Makes every committed transaction durable ('manual' mode; a no-op in 'auto' mode). */
  sync(): void {
    this.#checkOpen();
    for (const ops of this.#unsynced) for (const op of ops) applyOp(this.#durable, op);
    this.#unsynced = [];
  }

  /** Transactions committed but not yet synced. */
  get unsyncedTransactions(): number {
    return this.#unsynced.length;
  }

  /**
   * Simulates a process crash: closes this instance (every handle of it throws from now on) and returns a
   * new storage holding the durable state plus the first `keepUnsynced` unsynced transactions.
   */
  crash(options: CrashOptions = {}): MemoryStorage {
    this.#checkOpen();
    const keep = Math.min(options.keepUnsynced ?? 0, this.#unsynced.length);
    const disk = cloneState(this.#durable);
    for (const ops of this.#unsynced.slice(0, keep)) for (const op of ops) applyOp(disk, op);
    this.#closed = true;
    const restarted = new MemoryStorage({ sync: this.#syncMode });
    restarted.#durable = disk;
    restarted.#live = cloneState(disk);
    return restarted;
  }

  /** Closes the storage; unsynced writes are lost as in a crash (call sync() first to keep them). */
  close(): void {
    this.#closed = true;
  }

  /** The live state of a group, for MemoryGroupStorage. */
  #stateOf(group: GroupId): GroupState {
    this.#checkOpen();
    const s = this.#live.get(group);
    if (!s) throw new Error(`raft group ${group} was dropped from storage`);
    return s;
  }

  /** Applies a validated write to the live state and journals it. */
  #write(op: Op): void {
    applyOp(this.#live, op);
    if (this.#current) {
      this.#current.push(op);
    } else {
      this.#current = [op];
      this.#commit(true);
    }
  }

  /** Queues the open transaction's writes; in 'auto' mode a synced commit makes everything durable. */
  #commit(sync: boolean): void {
    const ops = this.#current!;
    this.#current = null;
    if (ops.length > 0) this.#unsynced.push(ops);
    if (sync && this.#syncMode === 'auto') this.sync();
  }

  /** Rebuilds the live state without the writes made since `mark` in the open transaction. */
  #rollback(mark: number, outer: boolean): void {
    const kept = this.#current!.slice(0, mark);
    const live = cloneState(this.#durable);
    for (const ops of this.#unsynced) for (const op of ops) applyOp(live, op);
    for (const op of kept) applyOp(live, op);
    this.#live = live;
    this.#current = outer ? null : kept;
    for (const group of [...this.#handles.keys()]) if (!live.has(group)) this.#handles.delete(group);
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageClosedError();
  }
}

/** A handle on one group; it reaches the live state through MemoryStorage's accessors. */
class MemoryGroupStorage implements GroupStorage {
  readonly group: GroupId;
  readonly #state: () => GroupState;
  readonly #write: (op: Op) => void;

  constructor(group: GroupId, state: () => GroupState, write: (op: Op) => void) {
    this.group = group;
    this.#state = state;
    this.#write = write;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const s = this.#state();
    return { hardState: s.hardState, confState: s.snapshot.meta.conf };
  }

  firstIndex(): number {
    return this.#state().compactIndex + 1;
  }

  lastIndex(): number {
    return lastIndexOf(this.#state());
  }

  term(index: number): number {
    return termOf(this.#state(), index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const s = this.#state();
    checkRange({ compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) }, lo, hi);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = s.entries[i - s.compactIndex - 1];
      bytes += entrySize(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  snapshot(): Snapshot {
    return this.#state().snapshot;
  }

  setHardState(hardState: HardState): void {
    this.#state();
    this.#write({ kind: 'hardState', group: this.group, hardState });
  }

  append(entries: readonly Entry[]): void {
    const s = this.#state();
    const skip = checkAppend({ compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) }, entries);
    if (skip === entries.length) return;
    this.#write({ kind: 'append', group: this.group, entries: entries.slice() });
  }

  applySnapshot(snapshot: Snapshot): void {
    checkApplySnapshot(this.#state().snapshot.meta.index, snapshot);
    this.#write({ kind: 'applySnapshot', group: this.group, snapshot });
  }

  createSnapshot(snapshot: Snapshot, retain: number): void {
    const s = this.#state();
    checkCreateSnapshot(
      { compactIndex: s.compactIndex, lastIndex: lastIndexOf(s) },
      s.snapshot.meta.index,
      snapshot,
      retain,
    );
    const term = termOf(s, snapshot.meta.index);
    if (term !== snapshot.meta.term) {
      throw new RangeError(
        `snapshot at index ${snapshot.meta.index} has term ${snapshot.meta.term} but the log has ${term}`,
      );
    }
    this.#write({ kind: 'createSnapshot', group: this.group, snapshot, retain });
  }
}
