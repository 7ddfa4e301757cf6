import type { StoredRecord } from '@myqueue/protocol';
import { CommandKind, decodeCommand } from './commands.js';
import { OffsetWaiters } from './offset-waiters.js';
import type { PartitionStore } from './partition-store.js';
import { checkSequence, pushBatch, type ProducerWindow } from './producer-window.js';
import { decodeSnapshotHeader, encodeSnapshot, snapshotBatches, type SnapshotHeader } from './snapshot.js';

/** What applying one entry produced; the leader hands it back to the request that proposed the entry. */
export type ApplyResult =
  | { readonly kind: 'produce'; readonly baseOffset: number; readonly count: number; readonly duplicate: boolean }
  | { readonly kind: 'position'; readonly consumerId: number; readonly position: number; readonly advanced: boolean }
  | {
      readonly kind: 'rejected';
      readonly code: 'MQ_ERR_OUT_OF_ORDER_SEQUENCE' | 'MQ_ERR_BAD_REQUEST';
      readonly message: string;
    }
  | { readonly kind: 'noop' };

export interface ReadResult {
  readonly records: StoredRecord[];
  readonly nextOffset: number;
}

/** Records as they travel in a produce command and sit in `mq_batches.data`. */
interface WireRecord {
  key?: string | null;
  value: string;
  headers?: Record<string, string>;
}

/**
 * The replicated state of one partition: messages with consecutive offsets from 0, consumer positions
 * and idempotent-producer windows. apply() runs inside the caller's storage transaction (the Raft
 * driver's group commit) and must be deterministic: every replica applies the same entries in the same
 * order and ends with identical state. A memory copy of the small state (offsets, positions, windows)
 * answers reads; the tables are the truth on restart.
 *
 * If a transaction around apply() fails, the memory copy is ahead of the database: the caller must
 * treat that as fatal and restart the process (it then reloads from disk).
 */
export class PartitionStateMachine {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly #store: PartitionStore;
  readonly #waiters = new OffsetWaiters();
  #appliedIndex: number;
  #nextOffset: number;
  #logStartOffset: number;
  #positions: Map<number, number>;
  #producers: Map<number, ProducerWindow>;
  /**
   * The parsed records of the batch the last read stopped inside: the next fetch of a reader going
   * through the log starts in it, and would otherwise decode and parse it a second time.
   */
  #partial: { readonly baseOffset: number; readonly count: number; readonly records: WireRecord[] } | undefined;

  constructor(store: PartitionStore, group: string, topic: string, partition: number) {
    this.#store = store;
    this.group = group;
    this.topic = topic;
    this.partition = partition;
    const row = store.ensurePartition(group, topic, partition);
    this.#appliedIndex = row.applied_index;
    this.#nextOffset = row.next_offset;
    this.#logStartOffset = row.log_start_offset;
    this.#positions = store.loadPositions(group);
    this.#producers = store.loadProducers(group);
  }

  /** The Raft index of the last applied entry. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** The offset the next record will get: every record below it is committed (the high watermark). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  /** A consumer's position; consumers never seen start at the log start. */
  position(consumerId: number): number {
    return this.#positions.get(consumerId) ?? this.#logStartOffset;
  }

  producerWindow(producerId: number): ProducerWindow | undefined {
    return this.#producers.get(producerId);
  }

  /** Applies the entry at `index` (its data may be empty: the leader's no-op). Idempotent per index. */
  apply(index: number, data: Uint8Array): ApplyResult {
    if (index <= this.#appliedIndex) return { kind: 'noop' };
    const result = data.byteLength === 0 ? ({ kind: 'noop' } as const) : this.#applyCommand(data);
    this.#appliedIndex = index;
    this.#store.saveProgress(this.group, index, this.#nextOffset, this.#logStartOffset);
    if (result.kind === 'produce' && !result.duplicate) this.#waiters.notify(this.#nextOffset);
    return result;
  }

  /** Advances the applied index over an entry that is not a partition command (membership change). */
  skip(index: number): void {
    if (index <= this.#appliedIndex) return;
    this.#appliedIndex = index;
    this.#store.saveProgress(this.group, index, this.#nextOffset, this.#logStartOffset);
  }

  #applyCommand(data: Uint8Array): ApplyResult {
    const cmd = decodeCommand(data);
    switch (cmd.kind) {
      case CommandKind.Produce: {
        const window = cmd.producerId > 0 ? this.#producers.get(cmd.producerId) : undefined;
        if (cmd.producerId > 0) {
          const check = checkSequence(window, cmd.sequence, cmd.count);
          if (check.kind === 'duplicate')
            return { kind: 'produce', baseOffset: check.baseOffset, count: cmd.count, duplicate: true };
          if (check.kind === 'out-of-order')
            return { kind: 'rejected', code: 'MQ_ERR_OUT_OF_ORDER_SEQUENCE', message: check.message };
        }
        if (cmd.count < 1) return { kind: 'rejected', code: 'MQ_ERR_BAD_REQUEST', message: 'empty batch' };
        const baseOffset = this.#nextOffset;
        this.#store.insertBatch(this.group, baseOffset, cmd.count, cmd.timestamp, cmd.records);
        this.#nextOffset += cmd.count;
        if (cmd.producerId > 0) {
          const next = pushBatch(window, { sequence: cmd.sequence, count: cmd.count, baseOffset });
          this.#producers.set(cmd.producerId, next);
          this.#store.saveProducer(this.group, cmd.producerId, next);
        }
        return { kind: 'produce', baseOffset, count: cmd.count, duplicate: false };
      }
      case CommandKind.Commit: {
        const position = Math.min(Math.max(cmd.offset, this.#logStartOffset), this.#nextOffset);
        this.#setPosition(cmd.consumerId, position);
        return { kind: 'position', consumerId: cmd.consumerId, position, advanced: true };
      }
      case CommandKind.Advance: {
        const current = this.position(cmd.consumerId);
        // Compare-and-set: a consume-next only moves a consumer that is still where the read started, so
        // two racing consumes (or a consume racing a commit) never skip records silently.
        if (current !== cmd.from || cmd.to < cmd.from || cmd.to > this.#nextOffset) {
          return { kind: 'position', consumerId: cmd.consumerId, position: current, advanced: false };
        }
        this.#setPosition(cmd.consumerId, cmd.to);
        return { kind: 'position', consumerId: cmd.consumerId, position: cmd.to, advanced: true };
      }
    }
  }

  #setPosition(consumerId: number, position: number): void {
    this.#positions.set(consumerId, position);
    this.#store.savePosition(this.group, consumerId, position);
  }

  /**
   * Reads committed records from `offset`: at most `maxMessages`, and no more than `maxBytes` of values
   * and keys except that the first record is always returned (so a huge record cannot block a reader).
   */
  read(offset: number, maxMessages: number, maxBytes: number): ReadResult {
    const records: StoredRecord[] = [];
    let next = Math.max(offset, this.#logStartOffset);
    let bytes = 0;
    const rows = this.#store.batchesFrom(this.group, next, maxMessages);
    outer: for (const row of rows) {
      const partial = this.#partial;
      const batch =
        partial && partial.baseOffset === row.base_offset && partial.count === row.count
          ? partial.records
          : (JSON.parse(row.data.toString('utf8')) as WireRecord[]);
      for (let i = Math.max(0, next - row.base_offset); i < batch.length; i++) {
        const r = batch[i];
        const size = r.value.length + (r.key?.length ?? 0);
        if (records.length >= maxMessages || (records.length > 0 && bytes + size > maxBytes)) {
          this.#partial = { baseOffset: row.base_offset, count: row.count, records: batch };
          break outer;
        }
        bytes += size;
        const rec: StoredRecord = {
          offset: row.base_offset + i,
          timestamp: row.timestamp,
          key: r.key ?? null,
          value: r.value,
        };
        if (r.headers) rec.headers = r.headers;
        records.push(rec);
        next = row.base_offset + i + 1;
      }
    }
    return { records, nextOffset: next };
  }

  /** Long poll: resolves when a record at `offset` exists, or after `timeoutMs`. */
  waitForOffset(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#waiters.wait(offset, timeoutMs, () => this.#nextOffset, signal);
  }

  wakeWaiters(): void {
    this.#waiters.wakeAll();
  }

  /** The small part of a snapshot at the applied index (see snapshot.ts). */
  snapshotHeader(): SnapshotHeader {
    return {
      nextOffset: this.#nextOffset,
      logStartOffset: this.#logStartOffset,
      positions: [...this.#positions],
      producers: [...this.#producers],
    };
  }

  /**
   * A full snapshot: `header` (default: now) plus every batch below its nextOffset, read from the table.
   * Valid for an older header too, because batches below an applied offset never change.
   */
  materializeSnapshot(header: SnapshotHeader = this.snapshotHeader()): Uint8Array {
    return encodeSnapshot(header, this.#store.iterateBatchesBelow(this.group, header.nextOffset));
  }

  /** The header-only snapshot stored when the Raft log is compacted. */
  compactSnapshot(): Uint8Array {
    return encodeSnapshot(this.snapshotHeader(), null);
  }

  /**
   * Replaces the whole state by a snapshot taken at `index`. A header-only snapshot (compaction on this
   * very replica) keeps the batches already stored below its nextOffset, which are identical on every
   * replica, and drops any above it.
   */
  restore(index: number, data: Uint8Array): void {
    this.#partial = undefined;
    const { header, complete, bodyStart } = decodeSnapshotHeader(data);
    if (complete) {
      this.#store.clearState(this.group);
      for (const b of snapshotBatches(data, bodyStart))
        this.#store.insertBatch(this.group, b.base_offset, b.count, b.timestamp, b.data);
    } else {
      if (this.#nextOffset < header.nextOffset) {
        throw new Error(
          `${this.group}: header-only snapshot ends at offset ${header.nextOffset} but only ${this.#nextOffset} are stored`,
        );
      }
      this.#store.clearReplicatedState(this.group, header.nextOffset);
    }
    this.#positions = new Map(header.positions.map(([c, p]) => [c, p]));
    this.#producers = new Map(header.producers.map(([id, w]) => [id, w]));
    for (const [c, p] of this.#positions) this.#store.savePosition(this.group, c, p);
    for (const [id, w] of this.#producers) this.#store.saveProducer(this.group, id, w);
    this.#nextOffset = header.nextOffset;
    this.#logStartOffset = header.logStartOffset;
    this.#appliedIndex = index;
    this.#store.saveProgress(this.group, index, this.#nextOffset, this.#logStartOffset);
    this.#waiters.notify(this.#nextOffset);
  }
}
