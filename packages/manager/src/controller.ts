import { MyQueueError, type BrokerHeartbeatRequest, type PartitionReport, type PartitionStatus } from '@myqueue/protocol';
import type { Logger } from 'pino';
import { addressOf, type BrokerAdmin } from './broker-admin.js';
import type { ClusterView } from './cluster-view.js';
import { sleep } from './data-path.js';
import { stateOf } from './health.js';
import { chooseReplacement, loadOf, placePartitions } from './placement.js';
import type { ResolvedManagerOptions } from './options.js';
import type { BrokerRow, LeaderChange, MetadataStore, PartitionRow, TopicRow } from './store/metadata-store.js';

interface Report {
  at: number;
  partitions: PartitionReport[];
}

interface Recorded {
  leader: string | null;
  term: number;
  hw: number;
  writtenAt: number;
}

/** Keep high watermarks in the metadata at most this stale (they are informational; leaders are exact). */
const HW_WRITE_INTERVAL_MS = 5000;

/**
 * The primary's control loop and the writes that involve brokers: topic creation (placement + replica
 * creation on the brokers), heartbeats (liveness, leader reports), reconciliation (replicas a broker should
 * have but does not report, or reports but should not have), and moving replicas off dead brokers by Raft
 * membership change. Only the primary runs it (every write is fenced anyway).
 */
export class Controller {
  readonly #reports = new Map<string, Report>();
  readonly #recorded = new Map<string, Recorded>();
  readonly #attempts = new Map<string, number>();
  #primarySince = 0;
  #ticking = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly view: ClusterView,
    private readonly admin: BrokerAdmin,
    private readonly o: ResolvedManagerOptions,
    private readonly log: Logger,
  ) {}

  /** Called when this node becomes primary: dead-broker clocks restart so a takeover moves nothing at once. */
  becamePrimary(now: number): void {
    this.#primarySince = now;
    this.#reports.clear();
    this.#recorded.clear();
  }

  // ---- topics

  async createTopic(name: string, partitions: number, replicationFactor: number): Promise<TopicRow> {
    this.view.invalidate();
    if (await this.view.topic(name)) throw new MyQueueError('MQ_ERR_TOPIC_EXISTS', `Topic '${name}' already exists`);
    const now = Date.now();
    const brokers = await this.view.brokers();
    // Live = not dead: a suspect broker (a late heartbeat, a manager takeover) is still placed on.
    // Right after a takeover heartbeats are still finding their way here: brokers count as seen at takeover.
    const alive = brokers.filter((b) => stateOf(Math.max(b.last_seen_ms, this.#primarySince), now, this.o) !== 'dead').map((b) => b.id);
    if (alive.length < replicationFactor) {
      throw new MyQueueError('MQ_ERR_NOT_ENOUGH_BROKERS', `replication factor ${replicationFactor} needs ${replicationFactor} live brokers; ${alive.length} live`);
    }
    const load = loadOf(alive, (await this.store.allPartitions()).map((p) => [...p.replicas, ...p.learners]));
    const placed = placePartitions(alive, load, partitions, replicationFactor);
    await this.store.createTopic(name, replicationFactor, placed, now);
    this.view.invalidate();
    const topic = (await this.view.topic(name))!;
    const byId = new Map(brokers.map((b) => [b.id, b]));
    await Promise.all(topic.partitions.map((p) => this.#createReplicas(p, byId)));
    return topic;
  }

  async #createReplicas(p: PartitionRow, byId: Map<string, BrokerRow>): Promise<void> {
    const replicas = p.replicas.map((id) => addressOf(byId.get(id)!));
    await Promise.all(
      p.replicas.map(async (id) => {
        try {
          await this.admin.createReplica(byId.get(id)!, p.topic, p.partition, { replicas });
        } catch (err) {
          // The reconciler creates it once the broker answers again.
          this.log.warn({ err, broker: id, topic: p.topic, partition: p.partition }, 'replica creation failed; will retry');
        }
      }),
    );
  }

  async deleteTopic(name: string): Promise<void> {
    const topic = await this.store.getTopic(name);
    if (!topic || !(await this.store.deleteTopic(name))) throw new MyQueueError('MQ_ERR_UNKNOWN_TOPIC', `Topic '${name}' does not exist`);
    this.view.invalidate();
    const brokers = new Map((await this.view.brokers()).map((b) => [b.id, b]));
    await Promise.all(
      topic.partitions.flatMap((p) =>
        [...p.replicas, ...p.learners].map((id) =>
          this.admin.deleteReplica(brokers.get(id)!, p.topic, p.partition).catch((err: unknown) => this.log.warn({ err, broker: id }, 'replica deletion failed; reconciler retries')),
        ),
      ),
    );
  }

  // ---- heartbeats

  async brokerHeartbeat(hb: BrokerHeartbeatRequest): Promise<void> {
    const now = Date.now();
    if (!(await this.store.touchBroker(hb.id, now))) {
      if (hb.url === undefined || hb.peer === undefined) throw new MyQueueError('MQ_ERR_UNKNOWN_BROKER', `broker '${hb.id}' is not registered; register first`);
      await this.store.registerBroker({ id: hb.id, url: hb.url, peer: hb.peer }, now);
      this.view.invalidate();
    }
    this.#reports.set(hb.id, { at: now, partitions: hb.partitions });
    const changes: LeaderChange[] = [];
    for (const r of hb.partitions) {
      const leader = r.role === 'leader' ? hb.id : r.leader;
      if (leader === null) continue;
      const row = (await this.view.topic(r.topic))?.partitions[r.partition];
      if (!row) continue;
      const k = `${r.topic}\u0000${r.partition}`;
      const rec = this.#recorded.get(k) ?? { leader: row.leader, term: row.leader_term, hw: row.high_watermark, writtenAt: 0 };
      if (r.term < rec.term) continue;
      const hw = r.role === 'leader' ? r.highWatermark : rec.hw;
      const leaderChanged = leader !== rec.leader || r.term > rec.term;
      if (leaderChanged || (hw !== rec.hw && now - rec.writtenAt > HW_WRITE_INTERVAL_MS)) {
        changes.push({ topic: r.topic, partition: r.partition, leader, term: r.term, highWatermark: hw });
        this.#recorded.set(k, { leader, term: r.term, hw, writtenAt: now });
        this.view.learnLeader(r.topic, r.partition, leader);
      }
    }
    await this.store.updateLeaders(changes);
  }

  // ---- the control loop

  /** One pass: reconcile replicas with the brokers' reports, then move replicas off long-dead brokers. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      this.view.invalidate();
      await this.#reconcile();
      await this.#moveOffDeadBrokers();
    } finally {
      this.#ticking = false;
    }
  }

  async #reconcile(): Promise<void> {
    const now = Date.now();
    const brokers = new Map((await this.view.brokers()).map((b) => [b.id, b]));
    const partitions = await this.store.allPartitions();
    const fresh = now - 3 * this.o.heartbeatIntervalMs;
    for (const [id, report] of this.#reports) {
      const broker = brokers.get(id);
      if (!broker || report.at < fresh || stateOf(broker.last_seen_ms, now, this.o) === 'dead') continue;
      const reported = new Set(report.partitions.map((r) => `${r.topic}\u0000${r.partition}`));
      for (const p of partitions) {
        const member = p.replicas.includes(id) || p.learners.includes(id);
        if (!member || reported.has(`${p.topic}\u0000${p.partition}`)) continue;
        if (!this.#dueAttempt(`create:${id}:${p.topic}:${p.partition}`, now)) continue;
        const voters = p.replicas.map((r) => brokers.get(r)).filter((b): b is BrokerRow => b !== undefined);
        const join = p.learners.includes(id);
        const replicas = (join ? [...voters, broker] : voters).map(addressOf);
        this.log.info({ broker: id, topic: p.topic, partition: p.partition }, 'broker lacks an assigned replica; creating it');
        await this.admin.createReplica(broker, p.topic, p.partition, { replicas, join }).catch((err: unknown) => this.log.warn({ err, broker: id }, 'replica creation failed'));
      }
      const assigned = new Set(partitions.filter((p) => p.replicas.includes(id) || p.learners.includes(id)).map((p) => `${p.topic}\u0000${p.partition}`));
      for (const r of report.partitions) {
        if (assigned.has(`${r.topic}\u0000${r.partition}`)) continue;
        if (!this.#dueAttempt(`delete:${id}:${r.topic}:${r.partition}`, now)) continue;
        this.log.info({ broker: id, topic: r.topic, partition: r.partition }, 'broker holds a replica it is not assigned; deleting it');
        await this.admin.deleteReplica(broker, r.topic, r.partition).catch((err: unknown) => this.log.warn({ err, broker: id }, 'replica deletion failed'));
      }
    }
  }

  #dueAttempt(key: string, now: number): boolean {
    const last = this.#attempts.get(key) ?? 0;
    if (now - last < 5 * this.o.heartbeatIntervalMs) return false;
    this.#attempts.set(key, now);
    if (this.#attempts.size > 10_000) this.#attempts.clear();
    return true;
  }

  async #moveOffDeadBrokers(): Promise<void> {
    const now = Date.now();
    const brokers = await this.view.brokers();
    const gone = new Set(brokers.filter((b) => now - Math.max(b.last_seen_ms, this.#primarySince) >= this.o.reassignAfterMs).map((b) => b.id));
    if (gone.size === 0) return;
    const alive = brokers.filter((b) => stateOf(b.last_seen_ms, now, this.o) === 'alive').map((b) => b.id);
    const partitions = await this.store.allPartitions();
    const load = loadOf(alive, partitions.map((p) => [...p.replicas, ...p.learners]));
    for (const p of partitions) {
      const dead = p.replicas.find((r) => gone.has(r));
      const deadLearner = p.learners.find((r) => gone.has(r));
      if (!dead && !deadLearner) continue;
      let desired = p.replicas;
      let learners = p.learners.filter((l) => !gone.has(l));
      if (dead) {
        const target = learners.find((l) => alive.includes(l)) ?? chooseReplacement(alive, load, [...p.replicas, ...p.learners]);
        if (!target) {
          this.log.warn({ topic: p.topic, partition: p.partition, dead }, 'no live broker to move the replica to; partition stays under-replicated');
          continue;
        }
        desired = p.replicas.map((r) => (r === dead ? target : r));
        learners = learners.filter((l) => l !== target);
        const l = load.get(target);
        if (l) l.replicas++;
      }
      this.log.info({ topic: p.topic, partition: p.partition, from: p.replicas, to: desired }, 'moving replicas off a dead broker');
      try {
        await this.changeMembers(p, desired, learners);
      } catch (err) {
        this.log.warn({ err, topic: p.topic, partition: p.partition }, 'replica move did not finish; retrying next pass');
      }
    }
  }

  /**
   * Moves partition `p` to the voter set `desired` by Raft membership changes on its leader: every new
   * member is created on its broker and added as a learner, promoted once caught up, then the members
   * leaving are removed. Each step checks the leader's view first, so a move cut short resumes cleanly.
   * `keepLearners` are learners to leave in place (other learners are removed).
   */
  async changeMembers(p: PartitionRow, desired: readonly string[], keepLearners: readonly string[] = []): Promise<void> {
    const brokers = new Map((await this.view.brokers()).map((b) => [b.id, b]));
    for (const id of desired) if (!brokers.has(id)) throw new MyQueueError('MQ_ERR_UNKNOWN_BROKER', `broker '${id}' is not registered`);
    const adds = desired.filter((d) => !p.replicas.includes(d));
    const removes = [...p.replicas.filter((r) => !desired.includes(r)), ...p.learners.filter((l) => !desired.includes(l) && !keepLearners.includes(l))];
    await this.store.setMembers(p.topic, p.partition, p.replicas, [...new Set([...p.learners, ...adds])]);
    const everyone = [...new Set([...p.replicas, ...adds])].map((id) => addressOf(brokers.get(id)!));
    for (const id of adds) await this.admin.createReplica(brokers.get(id)!, p.topic, p.partition, { replicas: everyone, join: true });
    let status = await this.admin.status(p);
    for (const id of adds) {
      if (!memberRole(status, id)) await this.admin.membership(p, { action: 'add-learner', replica: addressOf(brokers.get(id)!) });
    }
    for (const id of adds) {
      status = await this.#caughtUp(p, id);
      if (memberRole(status, id) !== 'voter') await this.admin.membership(p, { action: 'promote', replica: addressOf(brokers.get(id)!) });
    }
    status = await this.admin.status(p);
    for (const id of removes) {
      const b = brokers.get(id);
      if (b && memberRole(status, id)) await this.admin.membership(p, { action: 'remove', replica: addressOf(b) });
    }
    await this.store.setMembers(p.topic, p.partition, [...desired], [...keepLearners]);
    this.view.invalidate();
    const now = Date.now();
    for (const id of removes) {
      const b = brokers.get(id);
      if (b && stateOf(b.last_seen_ms, now, this.o) !== 'dead') await this.admin.deleteReplica(b, p.topic, p.partition).catch(() => undefined);
    }
  }

  /** Waits (bounded) until the learner `id` has caught up with the leader's log. */
  async #caughtUp(p: PartitionRow, id: string): Promise<PartitionStatus> {
    const deadline = Date.now() + this.o.requestTimeoutMs;
    for (;;) {
      const status = await this.admin.status(p);
      const r = status.replicas.find((x) => x.id === id);
      if (r && (r.role === 'voter' || (r.match ?? -1) >= status.commitIndex || (r.lag !== undefined && r.lag <= 0))) return status;
      if (Date.now() > deadline) throw new MyQueueError('MQ_ERR_TIMEOUT', `replica ${id} of ${p.topic}/${p.partition} did not catch up in time`);
      await sleep(100);
    }
  }

  /** Asks each partition led by another broker than its preferred (first, alive) replica to hand over. */
  async rebalanceLeaders(): Promise<{ topic: string; partition: number; from: string; to: string }[]> {
    const live = await this.view.liveBrokerIds();
    const transfers = [];
    for (const p of await this.store.allPartitions()) {
      const preferred = p.replicas[0];
      const leader = await this.view.leaderOf(p);
      if (!preferred || !leader || leader === preferred || !live.has(preferred)) continue;
      try {
        await this.admin.transferLeadership(p, preferred);
        transfers.push({ topic: p.topic, partition: p.partition, from: leader, to: preferred });
      } catch (err) {
        this.log.warn({ err, topic: p.topic, partition: p.partition }, 'leadership transfer failed');
      }
    }
    return transfers;
  }
}

function memberRole(status: PartitionStatus, id: string): 'voter' | 'learner' | undefined {
  return status.replicas.find((r) => r.id === id)?.role;
}
