import type { NodeId } from './types.js';

/** Majority quorum arithmetic over one set of voters (single-server membership changes only). */

/** The smallest number of voters that forms a majority of `n`. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index that a majority of `voters` have (per `matchOf`), i.e. the index the leader may
 * commit if the entry there is of its current term. 0 with no voters.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1] ?? 0;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Tallies an election: `votes` maps a voter to its answer (granted or not); missing voters are pending. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const need = majority(voters.length);
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const answer = votes.get(v);
    if (answer === true) granted++;
    else if (answer === false) rejected++;
  }
  if (granted >= need) return 'won';
  if (voters.length - rejected < need) return 'lost';
  return 'pending';
}

/** True when the voters satisfying `pred` form a majority. */
export function hasQuorum(voters: readonly NodeId[], pred: (id: NodeId) => boolean): boolean {
  return voters.filter(pred).length >= majority(voters.length);
}
