/**
 * What the client knows of the cluster: topic -> partitions -> leader, broker id -> URL, leaders learned
 * from redirects, and brokers that just failed (suspects, skipped for a moment). Fetches from the manager
 * are coalesced: concurrent callers share one request.
 */
import type { MetadataResponse, PartitionMetadata, TopicMetadata } from '@myqueue/protocol';
import { UnknownTopicError } from './errors.js';
import type { ManagerClient } from './manager-client.js';
import { normaliseUrl } from './options.js';
import { untilAborted } from './deadline.js';

/** A metadata fetch this young is reused even when a caller asks for fresh data. */
const MIN_REFRESH_INTERVAL_MS = 50;
/** How long a broker that failed a request is skipped when another replica can be tried. */
export const SUSPECT_MS = 2000;

interface CachedTopic {
  readonly meta: TopicMetadata;
  readonly fetchedAt: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class MetadataCache {
  readonly #manager: ManagerClient;
  readonly #maxAgeMs: number;
  readonly #topics = new Map<string, CachedTopic>();
  readonly #brokers = new Map<string, string>();
  readonly #leaders = new Map<string, string>();
  readonly #suspects = new Map<string, number>();
  readonly #stale = new Set<string>();
  readonly #rotation = new Map<string, number>();
  #inflight: Promise<void> | undefined;

  constructor(manager: ManagerClient, maxAgeMs: number) {
    this.#manager = manager;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Takes in a metadata answer: brokers and the topics it lists. */
  update(res: MetadataResponse, now = Date.now()): void {
    for (const b of res.brokers) this.#brokers.set(b.id, normaliseUrl(b.url));
    for (const t of res.topics) this.seedTopic(t, now);
  }

  /** Takes in one topic's metadata (e.g. from a registration answer). */
  seedTopic(meta: TopicMetadata, now = Date.now()): void {
    const previous = this.#topics.get(meta.name);
    if (
      previous &&
      previous.meta.createdAt === meta.createdAt &&
      meta.partitions.length < previous.meta.partitions.length
    ) {
      // A topic never loses partitions: fewer (F2 saw 0) is a transient wrong answer. Keep what we know, ask again.
      this.#stale.add(meta.name);
      return;
    }
    this.#topics.set(meta.name, { meta, fetchedAt: now });
    this.#stale.delete(meta.name);
    for (const p of meta.partitions) {
      if (p.leader && p.leaderUrl) this.#brokers.set(p.leader, normaliseUrl(p.leaderUrl));
      const learned = this.#leaders.get(tpKey(meta.name, p.partition));
      // A leader learned from a broker redirect is fresher than the manager's view unless the term moved on.
      const before = previous?.meta.partitions[p.partition];
      if (learned && before && p.leaderTerm > before.leaderTerm) this.#leaders.delete(tpKey(meta.name, p.partition));
    }
  }

  /** Fetches metadata of `topics` (coalesced with a fetch already running). */
  async refresh(topics: readonly string[], signal?: AbortSignal): Promise<void> {
    while (this.#inflight) await untilAborted(this.#inflight, signal);
    const now = Date.now();
    const needed = topics.filter((t) => {
      const c = this.#topics.get(t);
      return !c || this.#stale.has(t) || now - c.fetchedAt >= MIN_REFRESH_INTERVAL_MS;
    });
    if (needed.length === 0 && topics.length > 0) return;
    const run = this.#manager
      .metadata(topics.length > 0 ? topics : undefined, { signal })
      .then((res) => this.update(res));
    this.#inflight = run.then(
      () => undefined,
      () => undefined,
    );
    void this.#inflight.then(() => (this.#inflight = undefined));
    await run;
  }

  /** A topic's metadata, fetched when absent, stale, or older than metadataMaxAgeMs. */
  async topic(name: string, signal?: AbortSignal): Promise<TopicMetadata> {
    if (!this.freshTopic(name)) await this.refresh([name], signal);
    const meta = this.#topics.get(name)?.meta;
    if (!meta) throw new UnknownTopicError(`topic ${name} does not exist`, { details: { topic: name } });
    return meta;
  }

  /** The cached topic when `topic()` would answer it without fetching; else undefined. */
  freshTopic(name: string, now = Date.now()): TopicMetadata | undefined {
    const cached = this.#topics.get(name);
    if (!cached || this.#stale.has(name) || now - cached.fetchedAt > this.#maxAgeMs) return undefined;
    return cached.meta;
  }

  /** The cached topic, without fetching. */
  cachedTopic(name: string): TopicMetadata | undefined {
    return this.#topics.get(name)?.meta;
  }

  /** Marks a topic for refetching before its next use. */
  markStale(topic: string): void {
    this.#stale.add(topic);
  }

  brokerUrl(id: string): string | undefined {
    return this.#brokers.get(id);
  }

  /** Records the leader a broker named in a redirect (or forgets it with null). */
  learnLeader(topic: string, partition: number, url: string | null): void {
    if (url) this.#leaders.set(tpKey(topic, partition), normaliseUrl(url));
    else this.#leaders.delete(tpKey(topic, partition));
  }

  suspect(url: string, now = Date.now()): void {
    this.#suspects.set(normaliseUrl(url), now + SUSPECT_MS);
  }

  #isSuspect(url: string, now: number): boolean {
    const until = this.#suspects.get(url);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#suspects.delete(url);
    return false;
  }

  /**
   * Where to send a request for a partition: the known leader unless it just failed, else the replicas in
   * turn (a follower redirects to its leader), else null when nothing is known.
   */
  route(topic: string, partition: PartitionMetadata, now = Date.now()): string | null {
    const key = tpKey(topic, partition.partition);
    const learned = this.#leaders.get(key);
    if (learned && !this.#isSuspect(learned, now)) return learned;
    const leader = partition.leaderUrl
      ? normaliseUrl(partition.leaderUrl)
      : partition.leader
        ? this.#brokers.get(partition.leader)
        : undefined;
    if (leader && !this.#isSuspect(leader, now)) return leader;
    const replicas = [...partition.liveReplicas, ...partition.replicas]
      .map((id) => this.#brokers.get(id))
      .filter((u): u is string => u !== undefined);
    const candidates = [...new Set(replicas)];
    if (candidates.length === 0) return learned ?? leader ?? null;
    const healthy = candidates.filter((u) => !this.#isSuspect(u, now));
    const pool = healthy.length > 0 ? healthy : candidates;
    const turn = this.#rotation.get(key) ?? 0;
    this.#rotation.set(key, turn + 1);
    return pool[turn % pool.length];
  }
}
