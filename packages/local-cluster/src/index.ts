export {
  startLocalCluster,
  freePort,
  type LocalCluster,
  type LocalClusterOptions,
  type BrokerHandle,
  type ManagerProcess,
} from './local-cluster.js';
