import type { Db } from '../db/database.js';
import type { ProducerWindow } from './producer-window.js';

export interface BatchRow {
  readonly base_offset: number;
  readonly count: number;
  readonly timestamp: number;
  readonly data: Buffer;
}

export interface PartitionRow {
  readonly grp: string;
  readonly topic: string;
  readonly partition: number;
  readonly applied_index: number;
  readonly next_offset: number;
  readonly log_start_offset: number;
}

/** Prepared statements over the partition tables, shared by every partition of a broker. */
export class PartitionStore {
  readonly db: Db;
  readonly #insertPartition;
  readonly #getPartition;
  readonly #listPartitions;
  readonly #updateProgress;
  readonly #insertBatch;
  readonly #batchAtOrBefore;
  readonly #batchesFrom;
  readonly #batchesBelow;
  readonly #upsertPosition;
  readonly #positions;
  readonly #upsertProducer;
  readonly #producers;
  readonly #deleteBatches;
  readonly #deleteBatchesFrom;
  readonly #deletePositions;
  readonly #deleteProducers;
  readonly #deletePartition;

  constructor(db: Db) {
    this.db = db;
    this.#insertPartition = db.prepare<[string, string, number, number]>(
      'INSERT OR IGNORE INTO mq_partitions (grp, topic, partition, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#getPartition = db.prepare<[string], PartitionRow>('SELECT * FROM mq_partitions WHERE grp = ?');
    this.#listPartitions = db.prepare<[], PartitionRow>('SELECT * FROM mq_partitions ORDER BY topic, partition');
    this.#updateProgress = db.prepare<[number, number, number, string]>(
      'UPDATE mq_partitions SET applied_index = ?, next_offset = ?, log_start_offset = ? WHERE grp = ?',
    );
    this.#insertBatch = db.prepare<[string, number, number, number, Uint8Array]>(
      'INSERT INTO mq_batches (grp, base_offset, count, timestamp, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.#batchAtOrBefore = db.prepare<[string, number], { base_offset: number }>(
      'SELECT base_offset FROM mq_batches WHERE grp = ? AND base_offset <= ? ORDER BY base_offset DESC LIMIT 1',
    );
    this.#batchesFrom = db.prepare<[string, number, number], BatchRow>(
      'SELECT base_offset, count, timestamp, data FROM mq_batches WHERE grp = ? AND base_offset >= ? AND base_offset < ? ORDER BY base_offset',
    );
    this.#batchesBelow = db.prepare<[string, number], BatchRow>(
      'SELECT base_offset, count, timestamp, data FROM mq_batches WHERE grp = ? AND base_offset < ? ORDER BY base_offset',
    );
    this.#upsertPosition = db.prepare<[string, number, number]>(
      'INSERT INTO mq_positions (grp, consumer_id, position) VALUES (?, ?, ?) ON CONFLICT (grp, consumer_id) DO UPDATE SET position = excluded.position',
    );
    this.#positions = db.prepare<[string], { consumer_id: number; position: number }>(
      'SELECT consumer_id, position FROM mq_positions WHERE grp = ?',
    );
    this.#upsertProducer = db.prepare<[string, number, string]>(
      'INSERT INTO mq_producers (grp, producer_id, window) VALUES (?, ?, ?) ON CONFLICT (grp, producer_id) DO UPDATE SET window = excluded.window',
    );
    this.#producers = db.prepare<[string], { producer_id: number; window: string }>(
      'SELECT producer_id, window FROM mq_producers WHERE grp = ?',
    );
    this.#deleteBatches = db.prepare<[string]>('DELETE FROM mq_batches WHERE grp = ?');
    this.#deleteBatchesFrom = db.prepare<[string, number]>('DELETE FROM mq_batches WHERE grp = ? AND base_offset >= ?');
    this.#deletePositions = db.prepare<[string]>('DELETE FROM mq_positions WHERE grp = ?');
    this.#deleteProducers = db.prepare<[string]>('DELETE FROM mq_producers WHERE grp = ?');
    this.#deletePartition = db.prepare<[string]>('DELETE FROM mq_partitions WHERE grp = ?');
  }

  /** Creates the row of a partition replica (no-op if it exists) and returns it. */
  ensurePartition(group: string, topic: string, partition: number): PartitionRow {
    this.#insertPartition.run(group, topic, partition, Date.now());
    return this.#getPartition.get(group)!;
  }

  getPartition(group: string): PartitionRow | undefined {
    return this.#getPartition.get(group);
  }

  listPartitions(): PartitionRow[] {
    return this.#listPartitions.all();
  }

  saveProgress(group: string, appliedIndex: number, nextOffset: number, logStartOffset: number): void {
    this.#updateProgress.run(appliedIndex, nextOffset, logStartOffset, group);
  }

  insertBatch(group: string, baseOffset: number, count: number, timestamp: number, data: Uint8Array): void {
    this.#insertBatch.run(group, baseOffset, count, timestamp, data);
  }

  /**
   * The batches holding offsets `offset` to `offset + maxRecords - 1`, in offset order, read lazily: a
   * reader that has enough leaves the loop and the rest is never read (batches can be large blobs, so
   * reading rows it will not use costs a fetch more than everything else). Finish or break the loop
   * before the next statement on this connection.
   */
  batchesFrom(group: string, offset: number, maxRecords: number): IterableIterator<BatchRow> {
    const first = this.#batchAtOrBefore.get(group, offset);
    return this.#batchesFrom.iterate(group, first ? first.base_offset : offset, offset + maxRecords);
  }

  /** Every batch below `endOffset`, streamed (for snapshots). */
  iterateBatchesBelow(group: string, endOffset: number): IterableIterator<BatchRow> {
    return this.#batchesBelow.iterate(group, endOffset);
  }

  savePosition(group: string, consumerId: number, position: number): void {
    this.#upsertPosition.run(group, consumerId, position);
  }

  loadPositions(group: string): Map<number, number> {
    return new Map(this.#positions.all(group).map((r) => [r.consumer_id, r.position]));
  }

  saveProducer(group: string, producerId: number, window: ProducerWindow): void {
    this.#upsertProducer.run(group, producerId, JSON.stringify(window));
  }

  loadProducers(group: string): Map<number, ProducerWindow> {
    return new Map(this.#producers.all(group).map((r) => [r.producer_id, JSON.parse(r.window) as ProducerWindow]));
  }

  /** Deletes the partition's messages, positions and producer state (snapshot restore, replica drop). */
  clearState(group: string): void {
    this.#deleteBatches.run(group);
    this.#deletePositions.run(group);
    this.#deleteProducers.run(group);
  }

  /** Keeps the batches below `keepBelow`, drops the rest and every position and producer window. */
  clearReplicatedState(group: string, keepBelow: number): void {
    this.#deleteBatchesFrom.run(group, keepBelow);
    this.#deletePositions.run(group);
    this.#deleteProducers.run(group);
  }

  dropPartition(group: string): void {
    this.clearState(group);
    this.#deletePartition.run(group);
  }
}
