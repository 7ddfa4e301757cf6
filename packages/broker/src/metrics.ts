import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RaftHost } from './raft-host/raft-host.js';

const ROLE_VALUE: Record<string, number> = { follower: 0, 'pre-candidate': 1, candidate: 2, leader: 3 };

/** The broker's Prometheus metrics, served at /metrics. One registry per broker (tests run several). */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly errors: Counter<'route' | 'code'>;
  readonly produceLatency: Histogram<'acks'>;
  readonly commitLatency: Histogram;
  readonly producedRecords: Counter;
  readonly gateParked: Counter<'outcome'>;

  constructor(host: () => RaftHost | undefined) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mq_broker_process_' });
    this.requests = new Counter({
      name: 'mq_broker_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.errors = new Counter({
      name: 'mq_broker_http_errors_total',
      help: 'Failed HTTP requests by route and error code',
      labelNames: ['route', 'code'],
      registers: [this.registry],
    });
    this.produceLatency = new Histogram({
      name: 'mq_broker_produce_seconds',
      help: 'Produce latency from request to answer',
      labelNames: ['acks'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.commitLatency = new Histogram({
      name: 'mq_broker_storage_commit_seconds',
      help: 'Duration of one group-commit transaction (persist + apply + fsync)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    this.producedRecords = new Counter({
      name: 'mq_broker_produced_records_total',
      help: 'Records appended through this broker as leader',
      registers: [this.registry],
    });
    this.gateParked = new Counter({
      name: 'mq_broker_produce_gate_parked_total',
      help: 'Idempotent batches held back because they arrived ahead of their predecessor, by how they left the gate (in-order, timeout, released)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    const labels = ['topic', 'partition'] as const;
    const gauge = (name: string, help: string, read: (s: ReturnType<RaftHost['replicas']>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: labels,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const r of host()?.replicas() ?? [])
            this.set({ topic: r.topic, partition: String(r.partition) }, read(r));
        },
      });
    };
    gauge(
      'mq_broker_raft_role',
      'Raft role per partition (0 follower, 1 pre-candidate, 2 candidate, 3 leader)',
      (r) => ROLE_VALUE[r.soft.role] ?? -1,
    );
    gauge('mq_broker_raft_term', 'Raft term per partition', (r) => r.soft.term);
    gauge('mq_broker_raft_commit_index', 'Raft commit index per partition', (r) => r.node.status().commit);
    gauge('mq_broker_raft_applied_index', 'Applied index per partition', (r) => r.sm.appliedIndex);
    gauge('mq_broker_high_watermark', 'Next offset (committed records) per partition', (r) => r.sm.nextOffset);
  }
}
