/**
 * The cluster under test: a local cluster (manager + brokers as processes, packages/local-cluster) whose
 * brokers reach each other only through a PeerProxy, plus the probes the nemesis and the final read need
 * (who leads what, each replica's records).
 */
import { startLocalCluster, type LocalCluster } from '@myqueue/local-cluster';
import { brokerRoutes, type BrokerHealth, type FetchResponse } from '@myqueue/protocol';
import { join } from 'node:path';
import type { StoredRecord } from './checker.js';
import { PeerProxy } from './peer-proxy.js';

export interface ChaosClusterOptions {
  readonly brokers: number;
  /** Where the cluster's data and process logs go (kept: the run decides whether to remove them). */
  readonly dir: string;
  /** A Postgres server for the manager's metadata (a fresh database, dropped at the end). Default: PGlite. */
  readonly postgresUrl?: string | undefined;
}

export type PartitionHealth = BrokerHealth['partitions'][number];

export class ChaosCluster {
  /** Clusters started and not yet stopped, so an interrupted run can stop its processes. */
  static readonly running = new Set<ChaosCluster>();

  private constructor(
    readonly cluster: LocalCluster,
    readonly proxy: PeerProxy,
  ) {
    ChaosCluster.running.add(this);
  }

  static async start(o: ChaosClusterOptions): Promise<ChaosCluster> {
    const proxy = new PeerProxy();
    const advertised = new Map<string, string>();
    for (let i = 1; i <= o.brokers; i++) advertised.set(`b${i}`, await proxy.listen(`b${i}`));
    let cluster: LocalCluster;
    try {
      cluster = await startLocalCluster({
        brokers: o.brokers,
        dir: join(o.dir, 'cluster'),
        keepDir: true,
        startTimeoutMs: 120_000,
        logLevel: 'info',
        brokerEnvOf: (id) => ({ ADVERTISED_PEER: advertised.get(id) ?? '' }),
        ...(o.postgresUrl ? { postgresUrl: o.postgresUrl } : {}),
      });
    } catch (e) {
      await proxy.close();
      throw e;
    }
    for (const b of cluster.brokers) proxy.setTarget(b.id, b.peer);
    return new ChaosCluster(cluster, proxy);
  }

  get brokerIds(): string[] {
    return this.cluster.brokers.map((b) => b.id);
  }

  pidOf(id: string): number | undefined {
    return this.cluster.brokers.find((b) => b.id === id)?.pid;
  }

  #url(id: string): string {
    const b = this.cluster.brokers.find((x) => x.id === id);
    if (!b) throw new Error(`no broker ${id}`);
    return b.url;
  }

  async #get<T>(id: string, path: string, timeoutMs = 2000): Promise<T> {
    const res = await fetch(`${this.#url(id)}${path}`, {
      headers: { authorization: `Bearer ${this.cluster.clusterToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`${id} ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** A broker's partitions (role, leader, high watermark), or undefined if it does not answer. */
  async health(id: string): Promise<PartitionHealth[] | undefined> {
    try {
      return (await this.#get<BrokerHealth>(id, '/v1/health', 1500)).partitions;
    } catch {
      return undefined;
    }
  }

  /** Brokers ordered by how many partitions of `topic` they lead (most first); non-answering ones last. */
  async leadersFirst(topic: string): Promise<string[]> {
    const led = await Promise.all(
      this.brokerIds.map(async (id) => {
        const parts = await this.health(id);
        return { id, n: parts ? parts.filter((p) => p.topic === topic && p.role === 'leader').length : -1 };
      }),
    );
    return led.sort((a, b) => b.n - a.n).map((x) => x.id);
  }

  /** Every record a replica has applied, read page by page from the debug route. */
  async records(id: string, topic: string, partition: number): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    let offset = 0;
    for (;;) {
      const path = `${brokerRoutes.replica(topic, partition)}/records?offset=${offset}&maxMessages=5000&maxBytes=${8 << 20}`;
      const page = await this.#get<FetchResponse>(id, path, 30_000);
      for (const r of page.records) out.push({ offset: r.offset, value: r.value });
      if (page.records.length === 0 || page.nextOffset >= page.highWatermark) return out;
      offset = page.nextOffset;
    }
  }

  async stop(): Promise<void> {
    ChaosCluster.running.delete(this);
    await this.cluster.stop();
    await this.proxy.close();
  }
}
