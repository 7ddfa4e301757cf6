export {
  startLocalCluster,
  freePort,
  type LocalCluster,
  type LocalClusterOptions,
  type BrokerHandle,
} from './local-cluster.js';
