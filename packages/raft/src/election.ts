import type { ResolvedRaftOptions } from './options.js';
import type { VoteResult } from './quorum.js';
import { voteResult } from './quorum.js';
import type { RaftLog } from './raft-log.js';
import type { OutgoingMessage } from './replicator.js';
import type { Message, NodeId } from './types.js';
import { MessageType } from './types.js';

/** Vote/PreVote context marking a campaign started by TimeoutNow (it may break a follower's lease). */
const TRANSFER_CONTEXT = new Uint8Array([0x74]); // "t"

export interface ElectionContext {
  readonly id: NodeId;
  readonly opts: ResolvedRaftOptions;
  readonly log: RaftLog;
  voters(): readonly NodeId[];
  send(m: OutgoingMessage): void;
}

/** What a voter knows when it answers: its term, its vote in that term, and the leader it follows. */
export interface VoterState {
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  /** Ticks since it last heard from a leader (or granted a vote, or restarted). */
  readonly electionElapsed: number;
}

/**
 * Both sides of an election (docs/raft.md "Core: elections"): the candidate's requests and tally, and the
 * voter's answer, with the lease a voter keeps for a live leader under Check-Quorum. The node owns the
 * term, the vote and the timers, and changes roles on the results.
 */
export class Election {
  readonly #ctx: ElectionContext;
  readonly #votes = new Map<NodeId, boolean>();
  /**
   * Set on restart: we may have promised a leader, before the crash, not to vote for an election
   * timeout. We no longer know when we last heard from it, so we keep the promise for a full election
   * timeout from the restart (the lease a leader computed can only have been shorter). SIM-FINDINGS F3.
   */
  #restartLease = false;

  constructor(ctx: ElectionContext) {
    this.#ctx = ctx;
  }

  /** The node restarted from durable state: keep any lease promise it may have given. */
  restarted(): void {
    this.#restartLease = true;
  }

  /** A new term, a new role, or a campaign of our own: forget the tally (and the restart lease). */
  reset(): void {
    this.#votes.clear();
    this.#restartLease = false;
  }

  /**
   * Whether a (pre-)vote request of a higher term is ignored: with Check-Quorum, a voter that heard from a
   * live leader within an election timeout does not help depose it, unless the campaign comes from a
   * leadership transfer (TimeoutNow).
   */
  ignores(m: Message, voter: VoterState): boolean {
    const { checkQuorum, electionTick } = this.#ctx.opts;
    const transfer = m.context !== undefined && m.context.length > 0;
    const inLease = checkQuorum && (voter.leader !== '' || this.#restartLease) && voter.electionElapsed < electionTick;
    return inLease && !transfer;
  }

  /** The answer to a vote request of our term or a pre-vote: sent here; true when granted. */
  answer(m: Message, voter: VoterState): boolean {
    const pre = m.type === MessageType.PreVote;
    const type = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    // One vote per term (repeatable to the same candidate); a pre-vote for a later term binds nothing.
    const canVote = voter.vote === m.from || (voter.vote === '' && voter.leader === '') || (pre && m.term > voter.term);
    if (canVote && this.#ctx.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
      // The answer carries the candidate's term so a granted pre-vote is counted in its pre-campaign.
      this.#ctx.send({ type, to: m.from, term: m.term });
      return true;
    }
    this.#ctx.send({ type, to: m.from, reject: true });
    return false;
  }

  /**
   * Votes for ourselves in a (pre-)campaign for `voteTerm` and asks every other voter, unless our own vote
   * already wins (a single voter). Returns the tally after our own vote.
   */
  start(pre: boolean, transfer: boolean, voteTerm: number): VoteResult {
    const { id, log } = this.#ctx;
    this.#votes.clear();
    this.#votes.set(id, true);
    const result = voteResult(this.#ctx.voters(), this.#votes);
    if (result === 'won') return result;
    const type = pre ? MessageType.PreVote : MessageType.Vote;
    const index = log.lastIndex();
    const logTerm = log.lastTerm();
    for (const to of this.#ctx.voters()) {
      if (to === id) continue;
      this.#ctx.send({ type, to, term: voteTerm, index, logTerm, ...(transfer ? { context: TRANSFER_CONTEXT } : {}) });
    }
    return result;
  }

  /** Counts a voter's answer (its first one only). */
  count(from: NodeId, granted: boolean): VoteResult {
    if (!this.#votes.has(from)) this.#votes.set(from, granted);
    return voteResult(this.#ctx.voters(), this.#votes);
  }
}
