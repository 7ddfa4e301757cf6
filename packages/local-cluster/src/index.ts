export {
  startLocalCluster,
  freePort,
  type LocalCluster,
  type LocalClusterOptions,
  type BrokerHandle,
  type ManagerProcess,
} from './local-cluster.js';
export { reachablePostgres, testDatabaseOptions, DEFAULT_TEST_POSTGRES } from './reachable-postgres.js';
