/** The myqueue client library: see docs/client.md. */
export { MyQueue } from './myqueue.js';
export { Producer, type Message, type SendRequest, type RecordMetadata, type ProducerStats } from './producer.js';
export { Consumer, type ConsumedMessage } from './consumer.js';
export {
  MyProducer,
  MyConsumer,
  createTopic,
  listTopics,
  type MyProducerOptions,
  type MyConsumerOptions,
  type ClassicMessage,
  type AdminOptions,
} from './classic.js';
export * from './errors.js';
export * from './options.js';
export {
  murmur2,
  partitionForKey,
  createRoundRobinPartitioner,
  StickyPartitions,
  type Partitioner,
  type PartitionerArgs,
} from './partitioner.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { silentLogger, type Logger, type LogFn } from './logger.js';
export type { CallOptions } from './manager-client.js';
export type {
  TopicMetadata,
  PartitionMetadata,
  MetadataResponse,
  ClusterStatus,
  ManagerHealth,
} from '@myqueue/protocol';
