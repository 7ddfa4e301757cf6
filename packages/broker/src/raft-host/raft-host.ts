import {
  EntryType,
  MessageType,
  RaftNode,
  SqliteStorage,
  type Entry,
  type Logger,
  type Message,
  type Ready,
} from '@myqueue/raft';
import type { ReplicaAddress } from '@myqueue/protocol';
import type { Db } from '../db/database.js';
import { badRequest, unknownPartition } from '../errors.js';
import { PartitionStore } from '../partition/partition-store.js';
import { PartitionStateMachine } from '../partition/state-machine.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { BrokerDirectory } from './broker-directory.js';
import { PartitionReplica, type EntryResult } from './partition-replica.js';
import { SnapshotAwareStorage } from './snapshot-storage.js';

export interface RaftHostOptions {
  readonly brokerId: string;
  readonly db: Db;
  readonly transport: PeerTransport;
  readonly logger: Logger;
  /** Milliseconds per Raft tick. Default 50. */
  readonly tickMs?: number;
  /** Ticks without a leader before an election (randomized up to twice this). Default 10. */
  readonly electionTicks?: number;
  /** Ticks between a leader's heartbeats (fewer than electionTicks). Default 2. */
  readonly heartbeatTicks?: number;
  /** Compact a group's Raft log once it holds this many applied entries. Default 10 000. */
  readonly compactEntries?: number;
  /** Entries kept behind a compaction so slightly late followers catch up from the log. Default 1 000. */
  readonly compactRetain?: number;
  /** Observes each group-commit transaction (entries persisted + applied), for metrics. */
  readonly onCommit?: (seconds: number, groups: number) => void;
  /** Called when a storage transaction failed: memory and disk may disagree, the process must restart. */
  readonly onFatal: (err: unknown) => void;
}

type Applied = [PartitionReplica, Entry, EntryResult];

export const DEFAULT_RAFT_HOST = {
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  compactEntries: 10_000,
  compactRetain: 1_000,
} as const;

/**
 * Hosts every partition replica of this broker and drives their Raft nodes: one ready cycle per
 * event-loop turn collects the Ready of every group with work, persists all of them and applies their
 * committed entries in ONE SQLite transaction (one fsync for the whole cycle: group commit), then sends
 * the messages (never before they are durable, except a leader's appends: see #cycle), then answers the
 * requests waiting on those entries.
 */
export class RaftHost {
  readonly brokerId: string;
  readonly directory: BrokerDirectory;
  readonly store: PartitionStore;
  readonly startedAt = Date.now();
  readonly #o: Required<Omit<RaftHostOptions, 'onCommit'>> & Pick<RaftHostOptions, 'onCommit'>;
  readonly #raftStorage: SqliteStorage;
  readonly #replicas = new Map<string, PartitionReplica>();
  #ticker: NodeJS.Timeout | undefined;
  #scheduled = false;
  #closed = false;

  constructor(options: RaftHostOptions) {
    this.#o = { ...DEFAULT_RAFT_HOST, ...options };
    this.brokerId = options.brokerId;
    this.store = new PartitionStore(options.db);
    this.#raftStorage = new SqliteStorage(options.db);
    this.directory = new BrokerDirectory(options.db);
    for (const b of this.directory.all()) if (b.id !== this.brokerId) options.transport.setPeer(b.id, b.peer);
    options.transport.onMessage((m) => this.#onMessage(m));
  }

  /** Reopens every replica found on disk and starts ticking. */
  start(): void {
    for (const row of this.store.listPartitions()) this.#open(row.topic, row.partition, []);
    this.#ticker = setInterval(() => this.#tick(), this.#o.tickMs);
    this.#o.logger.info({ partitions: this.#replicas.size }, 'raft host started');
  }

  replica(topic: string, partition: number): PartitionReplica {
    const r = this.#replicas.get(groupOf(topic, partition));
    if (!r) throw unknownPartition(topic, partition);
    return r;
  }

  replicas(): PartitionReplica[] {
    return [...this.#replicas.values()];
  }

  /**
   * Creates this broker's replica of a partition. `replicas` are the group's voters (they must include
   * this broker); with `join` the replica starts empty and learns the group from its leader (it was
   * added by a membership change). Creating an existing replica only refreshes the addresses.
   */
  createReplica(
    topic: string,
    partition: number,
    replicas: readonly ReplicaAddress[],
    join: boolean,
  ): { created: boolean } {
    if (!replicas.some((r) => r.id === this.brokerId))
      throw badRequest(`replicas must include this broker (${this.brokerId})`);
    const ids = new Set(replicas.map((r) => r.id));
    if (ids.size !== replicas.length) throw badRequest('replica ids must be distinct');
    this.learnAddresses(replicas);
    if (this.#replicas.has(groupOf(topic, partition))) return { created: false };
    this.#o.db.transaction(() => this.#open(topic, partition, join ? [] : [...ids]))();
    this.schedule();
    return { created: true };
  }

  /** Deletes this broker's replica and all its data. */
  deleteReplica(topic: string, partition: number): void {
    const r = this.replica(topic, partition);
    this.#replicas.delete(r.group);
    r.close();
    this.#o.db.transaction(() => {
      this.#raftStorage.dropGroup(r.group);
      this.store.dropPartition(r.group);
    })();
    this.#o.logger.info({ group: r.group }, 'replica deleted');
  }

  learnAddresses(addresses: readonly ReplicaAddress[]): void {
    this.directory.save(addresses);
    for (const a of addresses) if (a.id !== this.brokerId) this.#o.transport.setPeer(a.id, a.peer);
  }

  #open(topic: string, partition: number, peers: string[]): PartitionReplica {
    const group = groupOf(topic, partition);
    const sm = new PartitionStateMachine(this.store, group, topic, partition);
    const storage = new SnapshotAwareStorage(this.#raftStorage.group(group), sm);
    const logger = this.#o.logger;
    const node = new RaftNode({
      id: this.brokerId,
      group,
      storage,
      peers,
      random: Math.random,
      electionTick: this.#o.electionTicks,
      heartbeatTick: this.#o.heartbeatTicks,
      applied: sm.appliedIndex,
      logger,
    });
    const replica = new PartitionReplica(
      { brokerId: this.brokerId, logger, urlOf: (id) => this.directory.urlOf(id), schedule: () => this.schedule() },
      topic,
      partition,
      sm,
      node,
      storage,
    );
    this.#replicas.set(group, replica);
    return replica;
  }

  #onMessage(m: Message): void {
    const r = this.#replicas.get(m.group);
    if (!r) return; // not created here (yet): the leader retries
    r.node.step(m);
    this.schedule();
  }

  #tick(): void {
    for (const r of this.#replicas.values()) r.node.tick();
    this.schedule();
  }

  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#cycle();
    });
  }

  #cycle(): void {
    if (this.#closed) return;
    const work: [PartitionReplica, Ready][] = [];
    for (const r of this.#replicas.values()) if (r.node.hasReady()) work.push([r, r.node.ready()]);
    if (work.length === 0) return;
    // A leader's appends go out BEFORE its own fsync, so followers write in parallel with it (Raft thesis
    // 10.2.1). Safe here because the leader can only count a follower's answer in a later cycle, and
    // this cycle's transaction (synchronous: better-sqlite3 blocks the thread) has made its own copy
    // durable by then; if the transaction fails the process exits before reading any answer. Every other
    // message (votes, append answers) still waits for the fsync.
    const later: Message[] = [];
    const early: Message[] = [];
    for (const [, rd] of work) for (const m of rd.messages) (m.type === MessageType.App ? early : later).push(m);
    if (early.length > 0) {
      this.#o.transport.send(early);
      this.#o.transport.flushNow();
    }
    const applied = this.#persist(work);
    if (!applied) return;
    if (later.length > 0) this.#o.transport.send(later);
    for (const [r, rd] of work) {
      if (rd.softState)
        this.#o.logger.info(
          { group: r.group, role: rd.softState.role, leader: rd.softState.leader, term: rd.softState.term },
          'raft role changed',
        );
    }
    for (const [r, e, result] of applied) r.onApplied(e, result);
    for (const [r, rd] of work) {
      if (rd.entries.length > 0) r.onPersisted(rd.entries);
      r.node.advance(rd);
      if (rd.softState) r.onSoftState(rd.softState);
    }
    for (const [r] of work) this.#maybeCompact(r);
    for (const [r] of work) {
      if (r.node.hasReady()) {
        this.schedule();
        break;
      }
    }
  }

  /**
   * Writes every Ready of the cycle in one transaction and applies the committed entries in it; returns
   * what was applied, or undefined after a storage failure (reported to onFatal).
   */
  #persist(work: readonly [PartitionReplica, Ready][]): Applied[] | undefined {
    const applied: Applied[] = [];
    // A cycle that only passes messages on (heartbeats and their answers, append answers that commit
    // nothing yet) has nothing to write: no transaction at all.
    const writes = work.some(
      ([, rd]) => rd.entries.length > 0 || rd.hardState || rd.snapshot || rd.committedEntries.length > 0,
    );
    if (!writes) return applied;
    // Only term, vote, entries and snapshots must be fsynced before answering; a cycle that only moves
    // commit indexes and applies entries commits without its own fsync (the next synced commit covers
    // it, and a crash before that re-applies the entries from the durable Raft log).
    const sync = work.some(([, rd]) => rd.mustSync);
    const started = performance.now();
    try {
      this.#raftStorage.transaction(
        () => {
          for (const [r, rd] of work) {
            if (rd.snapshot) r.storage.applySnapshot(rd.snapshot);
            if (rd.entries.length > 0) r.storage.append(rd.entries);
            if (rd.hardState) r.storage.setHardState(rd.hardState);
            if (rd.snapshot) r.sm.restore(rd.snapshot.meta.index, rd.snapshot.data);
            for (const e of rd.committedEntries) {
              let result: EntryResult;
              if (e.type === EntryType.Normal) result = r.sm.apply(e.index, e.data);
              else {
                r.sm.skip(e.index);
                result = { kind: 'conf' };
              }
              applied.push([r, e, result]);
            }
          }
        },
        { sync },
      );
    } catch (err) {
      this.#closed = true;
      this.#o.onFatal(err);
      return undefined;
    }
    this.#o.onCommit?.((performance.now() - started) / 1000, work.length);
    return applied;
  }

  /** Compacts a group's Raft log behind a header-only snapshot (see snapshot-storage.ts). */
  #maybeCompact(r: PartitionReplica): void {
    const applied = r.sm.appliedIndex;
    if (applied - r.storage.firstIndex() + 1 < this.#o.compactEntries) return;
    try {
      const snap = { meta: r.node.snapshotMeta(applied), data: r.sm.compactSnapshot() };
      this.#raftStorage.transaction(() => r.storage.createSnapshot(snap, this.#o.compactRetain));
      r.node.snapshotTaken(snap);
      this.#o.logger.debug({ group: r.group, index: applied }, 'raft log compacted');
    } catch (err) {
      this.#o.logger.warn({ err, group: r.group }, 'compaction failed; will retry');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ticker);
    for (const r of this.#replicas.values()) r.close();
    this.#replicas.clear();
    await Promise.resolve();
  }
}

export function groupOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
