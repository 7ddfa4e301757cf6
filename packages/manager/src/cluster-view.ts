import type { BrokerInfo, PartitionMetadata, TopicMetadata } from '@myqueue/protocol';
import { stateOf, type HealthTimeouts } from './health.js';
import type { BrokerRow, MetadataStore, PartitionRow, TopicRow } from './store/metadata-store.js';

interface Snapshot {
  at: number;
  brokers: Map<string, BrokerRow>;
  topics: Map<string, TopicRow>;
}

export interface LeaderHint {
  leader: string;
  /** When the hint was learned (ms); a hint newer than the snapshot wins over the recorded leader. */
  at: number;
}

/**
 * What this manager believes about brokers, topics and leaders, read from the metadata store and cached for
 * `cacheTtlMs`; leaders learned from brokers' answers (421 naming the leader, a successful call) override
 * the cache until the next report. Every manager (primary or replica) routes with one of these.
 */
export class ClusterView {
  #snap: Snapshot | undefined;
  #loading: Promise<Snapshot> | undefined;
  readonly #hints = new Map<string, LeaderHint>();
  readonly #store: MetadataStore;
  readonly #ttl: number;
  readonly #timeouts: HealthTimeouts;

  constructor(store: MetadataStore, cacheTtlMs: number, timeouts: HealthTimeouts) {
    this.#store = store;
    this.#ttl = cacheTtlMs;
    this.#timeouts = timeouts;
  }

  /** Drops the cache so the next read sees the database (after this node wrote, or on a miss). */
  invalidate(): void {
    this.#snap = undefined;
  }

  async #get(fresh = false): Promise<Snapshot> {
    if (!fresh && this.#snap && Date.now() - this.#snap.at < this.#ttl) return this.#snap;
    this.#loading ??= (async () => {
      try {
        const at = Date.now();
        const [brokers, topics] = await Promise.all([this.#store.listBrokers(), this.#store.listTopics()]);
        this.#snap = { at, brokers: new Map(brokers.map((b) => [b.id, b])), topics: new Map(topics.map((t) => [t.name, t])) };
        return this.#snap;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** The topic, re-reading the database once when this node has not seen it yet. */
  async topic(name: string): Promise<TopicRow | undefined> {
    const t = (await this.#get()).topics.get(name);
    return t ?? (await this.#get(true)).topics.get(name);
  }

  async broker(id: string): Promise<BrokerRow | undefined> {
    return (await this.#get()).brokers.get(id);
  }

  async brokers(): Promise<BrokerRow[]> {
    return [...(await this.#get()).brokers.values()];
  }

  brokerInfo(b: BrokerRow, now = Date.now()): BrokerInfo {
    return { id: b.id, url: b.url, peer: b.peer, state: stateOf(b.last_seen_ms, now, this.#timeouts), lastSeenAgoMs: Math.max(0, now - b.last_seen_ms), registeredAt: b.registered_at_ms };
  }

  /** Ids of brokers that are not dead (routed to). */
  async liveBrokerIds(now = Date.now()): Promise<Set<string>> {
    const ids = [...(await this.#get()).brokers.values()].filter((b) => stateOf(b.last_seen_ms, now, this.#timeouts) !== 'dead').map((b) => b.id);
    return new Set(ids);
  }

  /** The leader to try first: a fresh hint, else the recorded leader. */
  async leaderOf(p: PartitionRow): Promise<string | null> {
    const snap = await this.#get();
    const hint = this.#hints.get(key(p.topic, p.partition));
    if (hint && hint.at >= snap.at - this.#ttl) return hint.leader;
    return p.leader;
  }

  learnLeader(topic: string, partition: number, leader: string): void {
    this.#hints.set(key(topic, partition), { leader, at: Date.now() });
  }

  async topicMetadata(t: TopicRow): Promise<TopicMetadata> {
    const live = await this.liveBrokerIds();
    const partitions: PartitionMetadata[] = [];
    for (const p of t.partitions) {
      const leader = await this.leaderOf(p);
      const lb = leader ? await this.broker(leader) : undefined;
      partitions.push({
        partition: p.partition,
        leader: lb && live.has(lb.id) ? lb.id : null,
        leaderUrl: lb && live.has(lb.id) ? lb.url : null,
        leaderTerm: p.leader_term,
        replicas: p.replicas,
        learners: p.learners,
        liveReplicas: p.replicas.filter((r) => live.has(r)),
        highWatermark: p.high_watermark,
      });
    }
    return { name: t.name, replicationFactor: t.replication_factor, createdAt: t.created_at_ms, partitions };
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
