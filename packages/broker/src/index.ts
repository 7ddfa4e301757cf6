export { openDatabase, type Db } from './db/database.js';
export { PartitionStore } from './partition/partition-store.js';
export { PartitionStateMachine, type ApplyResult, type ReadResult } from './partition/state-machine.js';
export { PRODUCER_WINDOW } from './partition/producer-window.js';
export {
  PeerTransport,
  DEFAULT_PEER_TRANSPORT,
  type PeerTransportOptions,
  type MessageCodec,
} from './transport/peer-transport.js';
export { RaftHost, DEFAULT_RAFT_HOST, type RaftHostOptions } from './raft-host/raft-host.js';
export { startBroker, type RunningBroker } from './broker.js';
export {
  withDefaults,
  DEFAULT_BROKER_OPTIONS,
  type BrokerOptions,
  type ResolvedBrokerOptions,
} from './config/options.js';
export { optionsFromEnv, ConfigError } from './config/env.js';
export { ManagerClient, type ManagerClientOptions } from './manager-client.js';
