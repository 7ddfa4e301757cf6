import { hasQuorum } from './quorum.js';
import { ReadOnly } from './read-only.js';
import type { Replicator } from './replicator.js';
import type { NodeId, ReadState } from './types.js';

export interface ReadsContext {
  readonly id: NodeId;
  readonly checkQuorum: boolean;
  readonly electionTick: number;
  readonly repl: Replicator;
  voters(): readonly NodeId[];
  committed(): number;
}

/**
 * The leader's linearizable reads (see docs/raft.md "Core: reads"): ReadIndex through a heartbeat round,
 * lease reads while a quorum answered recently, reads deferred until the leader committed an entry of its
 * term, and the answers waiting for the next Ready. Role and term changes call reset(); answers already
 * given stay until taken.
 */
export class LeaderReads {
  readonly #ctx: ReadsContext;
  readonly #readOnly = new ReadOnly();
  /** Reads that arrived before the leader committed an entry of its term. */
  #deferred: { context: Uint8Array; lease: boolean }[] = [];
  /**
   * TimeoutNow went out in this term: the transferee's campaign overrides the followers' promise to our
   * lease, so lease reads take the heartbeat round until the term ends (SIM-FINDINGS F2).
   */
  #leaseVoid = false;
  #answered: ReadState[] = [];

  constructor(ctx: ReadsContext) {
    this.#ctx = ctx;
  }

  /** A read on the leader; `termCommitted` says whether an entry of its term is committed yet. */
  request(context: Uint8Array, lease: boolean, termCommitted: boolean): void {
    if (termCommitted) this.#serve(context, lease);
    else this.#deferred.push({ context, lease });
  }

  /** The leader committed an entry of its term: serve the reads that waited for it. */
  termCommitted(): void {
    if (this.#deferred.length === 0) return;
    const reads = this.#deferred;
    this.#deferred = [];
    for (const r of reads) this.#serve(r.context, r.lease);
  }

  /** `from` answered the heartbeat round of `context`. */
  ack(from: NodeId, context: Uint8Array): void {
    const acks = this.#readOnly.recvAck(from, context);
    if (acks && hasQuorum(this.#ctx.voters(), (id) => acks.has(id))) {
      this.#answered.push(...this.#readOnly.advance(context));
    }
  }

  /** Context of the newest read waiting for a round: every heartbeat carries it, retrying lost rounds. */
  lastContext(): Uint8Array | undefined {
    return this.#readOnly.lastContext();
  }

  voidLease(): void {
    this.#leaseVoid = true;
  }

  hasAnswers(): boolean {
    return this.#answered.length > 0;
  }

  takeAnswers(): ReadState[] {
    const out = this.#answered;
    this.#answered = [];
    return out;
  }

  /** Leadership (or the term) changed: pending reads are dropped; their callers time out and retry. */
  reset(): void {
    this.#readOnly.reset();
    this.#deferred = [];
    this.#leaseVoid = false;
  }

  #serve(context: Uint8Array, lease: boolean): void {
    const { id } = this.#ctx;
    const voters = this.#ctx.voters();
    const index = this.#ctx.committed();
    if ((voters.length === 1 && voters[0] === id) || (lease && this.#leaseValid())) {
      this.#answered.push({ index, context });
      return;
    }
    this.#readOnly.add(index, context, id);
    this.#ctx.repl.bcastHeartbeat(context);
  }

  /**
   * Lease reads: with check-quorum, a follower that heard from us refuses to elect anybody else for an
   * election timeout after it received our message (also across its restarts). A heartbeat sent at tick S
   * and answered was received at or after S, so while a quorum answered heartbeats sent in the last
   * electionTick - 1 ticks (one tick of margin for clock drift) no other leader can exist, unless we sent
   * TimeoutNow. Assumes members' clocks tick at about one rate.
   */
  #leaseValid(): boolean {
    const { checkQuorum, electionTick, repl } = this.#ctx;
    return checkQuorum && !this.#leaseVoid && repl.quorumHeardWithin(this.#ctx.voters(), electionTick - 1);
  }
}
