/** The myqueue fault suite: see docs/reliability.md. */
export {
  check,
  VIOLATION_KINDS,
  type CheckReport,
  type CheckCounts,
  type PartitionLogs,
  type StoredRecord,
  type Violation,
  type ViolationKind,
} from './checker.js';
export { HistoryWriter, readHistory, type Op, type OpType, type SendValue, type ReadValue } from './history.js';
export { PeerProxy, type LinkFault, type PeerProxyStats } from './peer-proxy.js';
export { ChaosCluster, type ChaosClusterOptions } from './chaos-cluster.js';
export { Nemesis, FAULTS, type FaultName, type NemesisOptions } from './nemesis.js';
/** The fault schedule's PRNG (--seed), shared with the Raft test harnesses. */
export { seededRandom } from '@myqueue/raft';
export { Workload, type WorkloadOptions } from './workload.js';
export { runChaos, type RunOptions, type RunResult } from './run.js';
export { parseRunArgs, formatReport, runCli } from './cli.js';
