import { encodeConfChangeEntry } from './codec.js';
import { Election } from './election.js';
import type { VoterState } from './election.js';
import {
  ConfChangeRejectedError,
  NotLeaderError,
  ProposalDroppedError,
  RaftError,
  TransferInProgressError,
} from './errors.js';
import type { Logger } from './logger.js';
import { applyConfChange, bootstrapEntry, ConfHistory, isVoter, members } from './membership.js';
import type { RaftNodeApi, RaftStatus } from './node-api.js';
import type { RaftOptions, ResolvedRaftOptions } from './options.js';
import { withDefaults } from './options.js';
import type { Progress } from './progress.js';
import { committedIndex } from './quorum.js';
import { RaftLog } from './raft-log.js';
import { LeaderReads } from './reads.js';
import { Replicator } from './replicator.js';
import type { OutgoingMessage } from './replicator.js';
import { ReplicationReceiver } from './replication-receiver.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  Ready,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from './types.js';
import { EntryType, MessageType, Role } from './types.js';

const EMPTY = new Uint8Array(0);

/**
 * One member of one Raft group: a deterministic state machine in the style of etcd's raft (see
 * docs/raft.md "Core"). No timers, no randomness of its own, no I/O: time comes from tick(), randomness
 * from options.random, durable state from options.storage (read-only), and every effect leaves through
 * ready(): what to persist, then what to send, then what to apply.
 */
export class RaftNode implements RaftNodeApi {
  readonly id: NodeId;
  readonly group: string;
  readonly #opts: ResolvedRaftOptions;
  readonly #log: RaftLog;
  readonly #conf: ConfHistory;
  readonly #logger: Logger;

  #term = 0;
  #vote: NodeId = '';
  #role: Role = Role.Follower;
  #leader: NodeId = '';
  #ticks = 0;
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedElectionTimeout = 0;
  #msgs: Message[] = [];
  readonly #repl: Replicator;
  readonly #reads: LeaderReads;
  readonly #election: Election;
  #transferee: NodeId = '';
  #uncommittedBytes = 0;
  readonly #receiver: ReplicationReceiver;
  #prevHard: HardState;
  #prevSoft: SoftState;
  #outstanding: Ready | undefined;

  constructor(options: RaftOptions) {
    const o = withDefaults(options);
    this.#opts = o;
    this.id = o.id;
    this.group = o.group;
    this.#logger = o.logger;
    const { hardState } = o.storage.initialState();
    const snap = o.storage.snapshot();
    const snapIndex = snap.meta.index;
    const commit = Math.max(hardState.commit, snapIndex);
    const applied = Math.max(o.applied ?? snapIndex, snapIndex);
    if (applied > commit) throw new RangeError(`applied ${applied} is beyond the commit index ${commit}`);
    this.#log = new RaftLog(o.storage, commit, applied);
    this.#conf = ConfHistory.fromLog(this.#log, snapIndex, snap.meta.conf);
    this.#repl = new Replicator({
      id: this.id,
      group: this.group,
      opts: o,
      log: this.#log,
      logger: o.logger,
      send: (m) => this.#send(m),
      now: () => this.#ticks,
    });
    this.#receiver = new ReplicationReceiver({
      log: this.#log,
      conf: this.#conf,
      send: (m) => this.#send(m),
      written: (entries) => this.#recordConfEntries(entries),
      installing: ({ meta }) =>
        this.#say('info', 'installing a snapshot from the leader', { index: meta.index, snapshotTerm: meta.term }),
    });
    this.#election = new Election({
      id: this.id,
      opts: o,
      log: this.#log,
      voters: () => this.#conf.current.voters,
      send: (m) => this.#send(m),
    });
    this.#reads = new LeaderReads({
      id: this.id,
      checkQuorum: o.checkQuorum,
      electionTick: o.electionTick,
      repl: this.#repl,
      voters: () => this.#conf.current.voters,
      committed: () => this.#log.committed,
    });
    this.#term = hardState.term;
    this.#vote = hardState.vote;
    this.#prevHard = hardState;
    if (o.storage.lastIndex() === 0 && snapIndex === 0 && hardState.term === 0 && o.peers.length > 0)
      this.#bootstrap(o.peers);
    this.#becomeFollower(this.#term, '');
    if (hardState.term > 0) this.#election.restarted();
    this.#prevSoft = { role: Role.Follower, leader: '', term: hardState.term };
  }

  // ---- inputs ----------------------------------------------------------------------------------

  tick(): void {
    this.#ticks++;
    if (this.#role === Role.Leader) this.#tickLeader();
    else this.#tickElection();
  }

  campaign(): void {
    this.#hup(false);
  }

  propose(data: Uint8Array): { index: number; term: number } {
    this.#checkCanPropose();
    const size = data.byteLength + 16;
    if (this.#uncommittedBytes > 0 && this.#uncommittedBytes + size > this.#opts.maxUncommittedBytes) {
      throw new ProposalDroppedError(`more than ${this.#opts.maxUncommittedBytes} uncommitted bytes`);
    }
    this.#uncommittedBytes += size;
    return this.#appendEntry(EntryType.Normal, data);
  }

  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.#checkCanPropose();
    if (this.#log.term(this.#log.committed) !== this.#term) {
      throw new ConfChangeRejectedError('the leader has not committed an entry of its term yet', true);
    }
    if (this.#conf.currentIndex > this.#log.committed) {
      throw new ConfChangeRejectedError(`the change at index ${this.#conf.currentIndex} is not committed yet`, true);
    }
    const conf = applyConfChange(this.#conf.current, change);
    const result = this.#appendEntry(EntryType.ConfChange, encodeConfChangeEntry({ change, conf }));
    this.#say('info', 'conf change proposed', { change, index: result.index });
    return result;
  }

  readIndex(context: Uint8Array, options: { lease?: boolean } = {}): void {
    if (this.#role !== Role.Leader) throw new NotLeaderError(this.#leader);
    this.#reads.request(context, options.lease === true, this.#log.term(this.#log.committed) === this.#term);
  }

  transferLeadership(to: NodeId): void {
    if (this.#role !== Role.Leader) throw new NotLeaderError(this.#leader);
    if (to === this.id) return;
    if (!isVoter(this.#conf.current, to))
      throw new RaftError('MQ_ERR_BAD_REQUEST', `cannot transfer leadership to ${to}: not a voter`, false);
    if (this.#transferee === to) return;
    this.#transferee = to;
    this.#electionElapsed = 0;
    this.#say('info', 'leadership transfer started', { to });
    const pr = this.#repl.progress.get(to)!;
    if (pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(to);
    else this.#repl.mark(to);
  }

  reportUnreachable(to: NodeId): void {
    const pr = this.#role === Role.Leader ? this.#repl.progress.get(to) : undefined;
    if (!pr || to === this.id) return;
    if (pr.state === 'replicate') pr.becomeProbe();
    else pr.snapshot?.rewind(this.#ticks);
  }

  step(m: Message): void {
    if (m.group !== this.group || m.to !== this.id || m.term === 0) return;
    if (m.term > this.#term) {
      if ((m.type === MessageType.Vote || m.type === MessageType.PreVote) && this.#election.ignores(m, this.#voter()))
        return; // a live leader exists: a disruptive candidate is ignored
      if (m.type === MessageType.PreVote || (m.type === MessageType.PreVoteResp && m.reject !== true)) {
        // Pre-votes do not change terms: a granted answer carries the term the candidate would use.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.#becomeFollower(m.term, m.from);
      } else if (m.type === MessageType.Vote) {
        // Figure 2: only granting the vote restarts the election timer. A stale candidate's request (we
        // may reject it) must not keep restarting it, or such candidates can starve the up-to-date voters
        // of their turn to campaign (seed 13239, without Pre-Vote).
        const elapsed = this.#electionElapsed;
        this.#becomeFollower(m.term, '');
        this.#electionElapsed = elapsed;
      } else {
        this.#becomeFollower(m.term, '');
      }
    } else if (m.term < this.#term) {
      if (
        (this.#opts.checkQuorum || this.#opts.preVote) &&
        (m.type === MessageType.App || m.type === MessageType.Heartbeat)
      ) {
        // A stale leader (cut off, maybe kept out by pre-vote) learns our term and steps down.
        this.#send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.#send({ type: MessageType.PreVoteResp, to: m.from, reject: true });
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.#handleVoteRequest(m);
      return;
    }
    switch (this.#role) {
      case Role.Leader:
        this.#stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.#stepCandidate(m);
        break;
      case Role.Follower:
        this.#stepFollower(m);
        break;
    }
  }

  // ---- the ready loop --------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.#outstanding) return false;
    this.#flushAppends();
    return (
      this.#softChanged() ||
      this.#hardChanged() ||
      this.#log.unstableEntries().length > 0 ||
      this.#log.unstableSnapshot() !== undefined ||
      this.#msgs.length > 0 ||
      this.#reads.hasAnswers() ||
      this.#log.hasNextCommitted()
    );
  }

  ready(): Ready {
    if (this.#outstanding) throw new Error('raft: advance() the previous Ready before asking for the next one');
    this.#flushAppends();
    const hard = this.#hardState();
    const hardChanged = this.#hardChanged();
    const termOrVoteChanged = hard.term !== this.#prevHard.term || hard.vote !== this.#prevHard.vote;
    const entries = [...this.#log.unstableEntries()];
    const snapshot = this.#log.unstableSnapshot();
    const committedEntries = this.#log.nextCommitted(this.#opts.maxCommittedSizePerReady);
    if (this.#role === Role.Leader) {
      for (const e of committedEntries)
        if (e.type === EntryType.Normal) this.#uncommittedBytes -= e.data.byteLength + 16;
      this.#uncommittedBytes = Math.max(0, this.#uncommittedBytes);
    }
    const rd: Ready = {
      group: this.group,
      ...(hardChanged ? { hardState: hard } : {}),
      entries,
      ...(snapshot ? { snapshot } : {}),
      committedEntries,
      messages: this.#msgs,
      ...(this.#softChanged() ? { softState: this.softState } : {}),
      readStates: this.#reads.takeAnswers(),
      mustSync: termOrVoteChanged || entries.length > 0 || snapshot !== undefined,
    };
    this.#msgs = [];
    this.#outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    if (rd !== this.#outstanding) throw new Error('raft: advance() must get the Ready returned by the last ready()');
    this.#outstanding = undefined;
    if (rd.hardState) this.#prevHard = rd.hardState;
    if (rd.softState) this.#prevSoft = rd.softState;
    const last = rd.entries[rd.entries.length - 1];
    if (last) this.#log.stableTo(last.index, last.term);
    if (rd.snapshot) {
      this.#log.stableSnapTo(rd.snapshot.meta.index);
      this.#log.appliedTo(rd.snapshot.meta.index);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) this.#log.appliedTo(lastApplied.index);
  }

  snapshotMeta(index: number): SnapshotMeta {
    // Entries handed out in a Ready count as applied: the application snapshots while applying them.
    const applying = this.#log.applying;
    if (index > applying) throw new RangeError(`cannot snapshot at ${index}: only ${applying} is applied`);
    const term = this.#log.term(index);
    if (term === undefined) throw new RangeError(`cannot snapshot at ${index}: compacted`);
    return { index, term, conf: this.#conf.at(index) };
  }

  snapshotTaken(snapshot: Snapshot): void {
    this.#conf.compact(snapshot.meta.index);
  }

  confState(): ConfState {
    return this.#conf.current;
  }

  get softState(): SoftState {
    return { role: this.#role, leader: this.#leader, term: this.#term };
  }

  status(): RaftStatus {
    const progress: Record<NodeId, RaftStatus['progress'][NodeId]> = {};
    if (this.#role === Role.Leader) {
      for (const [id, pr] of this.#repl.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive || id === this.id,
          learner: pr.learner,
        };
      }
    }
    return {
      id: this.id,
      term: this.#term,
      commit: this.#log.committed,
      applied: this.#log.applied,
      lastIndex: this.#log.lastIndex(),
      soft: this.softState,
      progress,
      conf: this.#conf.current,
      transferee: this.#transferee,
    };
  }

  // ---- roles -----------------------------------------------------------------------------------

  #reset(term: number): void {
    if (term !== this.#term) {
      this.#term = term;
      this.#vote = '';
      this.#receiver.reset();
    }
    this.#leader = '';
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#randomizedElectionTimeout =
      this.#opts.electionTick + Math.floor(this.#opts.random() * this.#opts.electionTick);
    this.#election.reset();
    this.#repl.reset();
    this.#transferee = '';
    this.#reads.reset();
    this.#uncommittedBytes = 0;
  }

  #becomeFollower(term: number, leader: NodeId): void {
    const wasLeader = this.#role === Role.Leader;
    this.#reset(term);
    this.#role = Role.Follower;
    this.#leader = leader;
    if (wasLeader) this.#say('info', 'stepped down');
  }

  #becomePreCandidate(): void {
    // Term and vote stay: a pre-candidate only asks whether it could win.
    this.#election.reset();
    this.#role = Role.PreCandidate;
    this.#leader = '';
  }

  #becomeCandidate(): void {
    this.#reset(this.#term + 1);
    this.#vote = this.id;
    this.#role = Role.Candidate;
  }

  #becomeLeader(): void {
    this.#reset(this.#term);
    this.#role = Role.Leader;
    this.#leader = this.id;
    this.#syncProgress();
    this.#say('info', 'became leader');
    // The no-op: committing it commits every earlier entry and lets reads and conf changes proceed.
    this.#appendEntry(EntryType.Normal, EMPTY);
  }

  /** Progress for the current members, and for those an uncommitted change removes (see Replicator.sync). */
  #syncProgress(): void {
    const conf = this.#conf.current;
    const leaving =
      this.#conf.currentIndex > this.#log.committed ? members(this.#conf.at(this.#conf.currentIndex - 1)) : [];
    this.#repl.sync(conf, leaving);
    if (this.#transferee && !isVoter(conf, this.#transferee)) this.#transferee = '';
  }

  #promotable(): boolean {
    return isVoter(this.#conf.current, this.id);
  }

  // ---- elections -------------------------------------------------------------------------------

  #tickElection(): void {
    this.#electionElapsed++;
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedElectionTimeout) {
      this.#electionElapsed = 0;
      this.#hup(false);
    }
  }

  #hup(transfer: boolean): void {
    if (this.#role === Role.Leader || !this.#promotable()) return;
    this.#electionElapsed = 0;
    this.#say('debug', 'starting an election', { transfer });
    if (this.#opts.preVote && !transfer) this.#campaign(true, false);
    else this.#campaign(false, transfer);
  }

  #campaign(pre: boolean, transfer: boolean): void {
    let voteTerm: number;
    if (pre) {
      this.#becomePreCandidate();
      voteTerm = this.#term + 1;
    } else {
      this.#becomeCandidate();
      voteTerm = this.#term;
    }
    if (this.#election.start(pre, transfer, voteTerm) !== 'won') return;
    if (pre) this.#campaign(false, transfer);
    else this.#becomeLeader();
  }

  #handleVoteRequest(m: Message): void {
    if (this.#election.answer(m, this.#voter()) && m.type === MessageType.Vote) {
      this.#electionElapsed = 0;
      this.#vote = m.from;
    }
  }

  #voter(): VoterState {
    return { term: this.#term, vote: this.#vote, leader: this.#leader, electionElapsed: this.#electionElapsed };
  }

  #stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        this.#becomeFollower(m.term, m.from);
        this.#stepFollower(m);
        return;
      case MessageType.VoteResp:
      case MessageType.PreVoteResp: {
        const pre = this.#role === Role.PreCandidate;
        if ((m.type === MessageType.PreVoteResp) !== pre) return;
        if (pre && m.reject !== true && m.term !== this.#term + 1) return;
        const result = this.#election.count(m.from, m.reject !== true);
        if (result === 'won') {
          if (pre) this.#campaign(false, false);
          else this.#becomeLeader();
        } else if (result === 'lost') {
          this.#becomeFollower(this.#term, '');
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- follower --------------------------------------------------------------------------------

  #stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#receiver.handleApp(m);
        return;
      case MessageType.Heartbeat:
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#log.commitTo(Math.min(m.commit ?? 0, this.#log.lastIndex()));
        this.#send({
          type: MessageType.HeartbeatResp,
          to: m.from,
          ...(m.index !== undefined ? { index: m.index } : {}),
          ...(m.context ? { context: m.context } : {}),
        });
        return;
      case MessageType.Snap:
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#receiver.handleSnapChunk(m);
        return;
      case MessageType.TimeoutNow:
        this.#say('info', 'asked to take over leadership', { from: m.from });
        this.#hup(true);
        return;
      default:
        return;
    }
  }

  // ---- leader ----------------------------------------------------------------------------------

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#opts.electionTick) {
      this.#electionElapsed = 0;
      if (this.#opts.checkQuorum) {
        const voters = this.#conf.current.voters;
        if (!this.#repl.quorumActive(voters)) {
          this.#say('warn', 'no quorum heard within an election timeout');
          this.#becomeFollower(this.#term, '');
          return;
        }
        this.#repl.resetActivity();
      }
      if (this.#transferee) {
        this.#say('warn', 'leadership transfer timed out', { to: this.#transferee });
        this.#transferee = '';
      }
    }
    this.#repl.tickSnapshots(this.#opts.electionTick);
    if (this.#heartbeatElapsed >= this.#opts.heartbeatTick) {
      this.#heartbeatElapsed = 0;
      this.#repl.bcastHeartbeat(this.#reads.lastContext());
    }
  }

  #stepLeader(m: Message): void {
    const pr = this.#repl.progress.get(m.from);
    if (!pr || m.from === this.id) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.#heard(pr);
        this.#handleAppResp(m, pr);
        return;
      case MessageType.HeartbeatResp: {
        this.#heard(pr);
        if (m.index !== undefined && m.index <= this.#ticks) pr.leaseTick = Math.max(pr.leaseTick, m.index);
        pr.probeSent = false;
        if (pr.match < this.#log.lastIndex()) {
          // Alive but behind: Apps (or their answers) may have been lost; probe with one more App.
          if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
          pr.emptyDue = true;
          this.#repl.mark(m.from);
        }
        if (m.context && m.context.length > 0) this.#reads.ack(m.from, m.context);
        return;
      }
      case MessageType.SnapResp: {
        this.#heard(pr);
        const sender = pr.snapshot;
        if (!sender || m.index !== sender.index) return;
        if (m.reject === true) sender.resendFrom(m.chunkOffset ?? 0, this.#ticks);
        else sender.ack(m.chunkOffset ?? 0, this.#ticks);
        this.#repl.mark(m.from);
        return;
      }
      default:
        return;
    }
  }

  #heard(pr: Progress): void {
    pr.recentActive = true;
  }

  #handleAppResp(m: Message, pr: Progress): void {
    const index = m.index ?? 0;
    if (m.reject === true) {
      let hint = m.rejectHint ?? 0;
      if ((m.hintTerm ?? 0) > 0) hint = this.#log.findConflictByTerm(hint, m.hintTerm ?? 0).index;
      if (pr.maybeDecrTo(index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#repl.mark(m.from);
      }
      return;
    }
    if (!pr.maybeUpdate(index)) {
      if (pr.state === 'probe' && index === pr.match) pr.probeSent = false;
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.snapshot && pr.match >= pr.snapshot.index) pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.inflights.freeLE(index);
    this.#repl.mark(m.from);
    this.#maybeCommit();
    if (this.#role === Role.Leader && m.from === this.#transferee && pr.match === this.#log.lastIndex()) {
      this.#say('info', 'transferee caught up; sending TimeoutNow', { to: m.from });
      this.#sendTimeoutNow(m.from);
    }
  }

  #checkCanPropose(): void {
    if (this.#role !== Role.Leader) throw new NotLeaderError(this.#leader);
    if (this.#transferee) throw new TransferInProgressError(this.#transferee);
  }

  #appendEntry(type: EntryType, data: Uint8Array): { index: number; term: number } {
    const index = this.#log.lastIndex() + 1;
    const entry: Entry = { index, term: this.#term, type, data };
    this.#log.append([entry]);
    this.#recordConfEntries([entry]);
    this.#repl.selfAppended(index);
    this.#maybeCommit();
    return { index, term: this.#term };
  }

  /** Advances the commit index to what a majority of voters store, if that entry is of this term. */
  #maybeCommit(): void {
    const idx = committedIndex(this.#conf.current.voters, (id) => this.#repl.progress.get(id)?.match ?? 0);
    // Figure 8: an entry of an earlier term is only committed indirectly, by one of ours after it.
    if (idx <= this.#log.committed || this.#log.term(idx) !== this.#term) return;
    this.#log.commitTo(idx);
    this.#repl.markAll();
    this.#reads.termCommitted();
    if (
      this.#log.committed >= this.#conf.currentIndex &&
      this.#repl.progress.size > members(this.#conf.current).length
    ) {
      this.#syncProgress(); // a removal committed: stop replicating to the removed members
    }
    if (!isVoter(this.#conf.current, this.id) && this.#log.committed >= this.#conf.currentIndex) {
      this.#stepDownRemoved();
    }
  }

  /** The leader's own removal committed: tell everyone, hand over to the most caught-up voter, step down. */
  #stepDownRemoved(): void {
    this.#flushAppends();
    let best: NodeId = '';
    let bestMatch = -1;
    for (const id of this.#conf.current.voters) {
      const match = this.#repl.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best && bestMatch === this.#log.lastIndex()) this.#sendTimeoutNow(best);
    this.#say('info', 'removed from the group; stepping down', { successor: best });
    this.#becomeFollower(this.#term, '');
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#reads.voidLease(); // the transferee's campaign breaks the followers' promise to our lease
    this.#send({ type: MessageType.TimeoutNow, to });
  }

  #flushAppends(): void {
    if (this.#role === Role.Leader) this.#repl.flush();
    else this.#repl.reset();
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #say(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: object = {}): void {
    this.#logger[level]({ group: this.group, node: this.id, term: this.#term, ...fields }, `raft: ${msg}`);
  }

  #send(m: OutgoingMessage): void {
    this.#msgs.push({ ...m, group: this.group, from: this.id, term: m.term ?? this.#term });
  }

  /** Entries just written to the log: ConfChange ones change the membership at once (on append). */
  #recordConfEntries(written: readonly Entry[]): void {
    if (this.#conf.record(written) && this.#role === Role.Leader) this.#syncProgress();
  }

  #bootstrap(peers: readonly NodeId[]): void {
    const entry = bootstrapEntry(peers);
    this.#log.append([entry]);
    this.#conf.record([entry]);
    this.#term = 1;
    this.#log.commitTo(1);
    this.#say('info', 'bootstrapped a new group', { peers });
  }

  #hardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#log.committed };
  }

  #hardChanged(): boolean {
    const p = this.#prevHard;
    return p.term !== this.#term || p.vote !== this.#vote || p.commit !== this.#log.committed;
  }

  #softChanged(): boolean {
    const p = this.#prevSoft;
    return p.role !== this.#role || p.leader !== this.#leader || p.term !== this.#term;
  }
}
