import { MyQueueError, brokerRoutes, type CreateReplicaRequest, type MembershipRequest, type PartitionStatus, type ReplicaAddress } from '@myqueue/protocol';
import type { DataPath } from './data-path.js';
import type { HttpClient } from './http-client.js';
import type { BrokerRow, PartitionRow } from './store/metadata-store.js';

export function addressOf(b: BrokerRow): ReplicaAddress {
  return { id: b.id, url: b.url, peer: b.peer };
}

/** The broker admin API (cluster token) as the manager uses it: replicas, membership, leadership. */
export class BrokerAdmin {
  readonly #http: HttpClient;
  readonly #data: DataPath;
  readonly #token: string | undefined;

  constructor(http: HttpClient, data: DataPath, clusterToken: string | undefined) {
    this.#http = http;
    this.#data = data;
    this.#token = clusterToken;
  }

  /**
   * Creates (or confirms) the replica of topic/partition on `broker`. PUT is idempotent on the broker; a
   * broker that only routes POST for it is tolerated.
   */
  async createReplica(broker: BrokerRow, topic: string, partition: number, body: CreateReplicaRequest): Promise<void> {
    const path = brokerRoutes.replica(topic, partition);
    const r = await this.#http.call(broker.url, 'PUT', path, { body, token: this.#token });
    if (r.status >= 200 && r.status < 300) return;
    if (r.status === 404 || r.status === 405) {
      const again = await this.#http.call(broker.url, 'POST', path, { body, token: this.#token });
      if ((again.status >= 200 && again.status < 300) || again.status === 409) return;
      throw new MyQueueError('MQ_ERR_UNAVAILABLE', `broker ${broker.id} refused replica ${topic}/${partition}: HTTP ${again.status}`);
    }
    if (r.status === 409) return;
    throw new MyQueueError('MQ_ERR_UNAVAILABLE', `broker ${broker.id} refused replica ${topic}/${partition}: HTTP ${r.status}`);
  }

  async deleteReplica(broker: BrokerRow, topic: string, partition: number): Promise<void> {
    const r = await this.#http.call(broker.url, 'DELETE', brokerRoutes.replica(topic, partition), { token: this.#token });
    if (r.status >= 300 && r.status !== 404) throw new MyQueueError('MQ_ERR_UNAVAILABLE', `broker ${broker.id} refused to delete ${topic}/${partition}: HTTP ${r.status}`);
  }

  /** A membership change, sent to the partition's leader. */
  membership(p: PartitionRow, change: MembershipRequest): Promise<unknown> {
    return this.#data.toLeader(p, 'POST', brokerRoutes.membership(p.topic, p.partition), change, undefined, true);
  }

  /** The leader's view of the partition: members with their roles and lag. */
  status(p: PartitionRow): Promise<PartitionStatus> {
    return this.#data.toLeader<PartitionStatus>(p, 'GET', brokerRoutes.status(p.topic, p.partition), undefined, undefined, true);
  }

  transferLeadership(p: PartitionRow, to: string): Promise<unknown> {
    return this.#data.toLeader(p, 'POST', brokerRoutes.transferLeadership(p.topic, p.partition), { to }, undefined, true);
  }
}
