import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The manager's Prometheus metrics (served at /metrics). One registry per manager instance. */
export class ManagerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'mq_manager_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'mq_manager_errors_total', help: 'Failure answers by route and error code', labelNames: ['route', 'code'] as const, registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'mq_manager_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly produceLatency = new Histogram({
    name: 'mq_manager_produce_seconds',
    help: 'Logging-queue produce: manager receipt to durable ack from the partition leader',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly isPrimary = new Gauge({ name: 'mq_manager_is_primary', help: '1 when this manager is the primary', registers: [this.registry] });
  readonly brokers = new Gauge({ name: 'mq_manager_brokers', help: 'Brokers by health state', labelNames: ['state'] as const, registers: [this.registry] });
  readonly partitions = new Gauge({ name: 'mq_manager_partitions', help: 'Partitions by replication state', labelNames: ['state'] as const, registers: [this.registry] });
  readonly leaderTerm = new Gauge({ name: 'mq_partition_leader_term', help: 'Raft term of the recorded leader per partition', labelNames: ['topic', 'partition'] as const, registers: [this.registry] });
  readonly consumerLag = new Gauge({ name: 'mq_consumer_lag_messages', help: 'Unconsumed messages last reported by GET /size', labelNames: ['topic', 'consumer'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mq_manager_' });
  }
}
