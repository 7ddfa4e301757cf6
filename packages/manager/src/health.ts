import type { NodeState, PartitionHealth } from '@myqueue/protocol';

export interface HealthTimeouts {
  readonly suspectAfterMs: number;
  readonly deadAfterMs: number;
}

/** alive until suspectAfterMs without news, suspect until deadAfterMs, dead after (docs/manager.md). */
export function stateOf(lastSeenMs: number, now: number, t: HealthTimeouts): NodeState {
  const age = now - lastSeenMs;
  if (age < t.suspectAfterMs) return 'alive';
  if (age < t.deadAfterMs) return 'suspect';
  return 'dead';
}

/** ok: every voter alive; under-replicated: some dead but a majority not; unavailable: no live majority. */
export function partitionState(replicas: readonly string[], live: ReadonlySet<string>): PartitionHealth['state'] {
  const up = replicas.filter((r) => live.has(r)).length;
  if (up === replicas.length) return 'ok';
  return up > replicas.length / 2 ? 'under-replicated' : 'unavailable';
}
