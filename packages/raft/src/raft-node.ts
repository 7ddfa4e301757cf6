import { decodeConfChangeEntry, encodeConfChangeEntry } from './codec.js';
import {
  ConfChangeRejectedError,
  NotLeaderError,
  ProposalDroppedError,
  RaftError,
  TransferInProgressError,
} from './errors.js';
import type { Logger } from './logger.js';
import { applyConfChange, ConfHistory, isLearner, isVoter, makeConf, members } from './membership.js';
import type { RaftNodeApi, RaftStatus } from './node-api.js';
import type { RaftOptions, ResolvedRaftOptions } from './options.js';
import { withDefaults } from './options.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';
import { entrySize, RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  Ready,
  ReadState,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from './types.js';
import { EntryType, MessageType, Role } from './types.js';

/** Vote/PreVote context marking a campaign started by TimeoutNow (it may break a follower's lease). */
const TRANSFER_CONTEXT = new Uint8Array([0x74]); // "t"
const EMPTY = new Uint8Array(0);

type Outgoing = Omit<Message, 'group' | 'from' | 'term'> & { term?: number };

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
  #votes = new Map<NodeId, boolean>();
  #progress = new Map<NodeId, Progress>();
  /** Followers that may have something to send; appends are batched until the next ready(). */
  #needsAppend = new Set<NodeId>();
  #msgs: Message[] = [];
  #readStates: ReadState[] = [];
  #readOnly = new ReadOnly();
  /** Reads that arrived before the leader committed an entry of its term. */
  #pendingReads: { context: Uint8Array; lease: boolean }[] = [];
  #transferee: NodeId = '';
  #uncommittedBytes = 0;
  /** InstallSnapshot chunks received so far (follower). */
  #partialSnapshot: { meta: SnapshotMeta; chunks: Uint8Array[]; received: number } | undefined;
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
    this.#conf = new ConfHistory(snapIndex, snap.meta.conf);
    this.#term = hardState.term;
    this.#vote = hardState.vote;
    this.#prevHard = hardState;
    this.#scanConfEntries(snapIndex + 1);
    if (o.storage.lastIndex() === 0 && snapIndex === 0 && hardState.term === 0 && o.peers.length > 0)
      this.#bootstrap(o.peers);
    this.#becomeFollower(this.#term, '');
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
    this.#logger.info(
      { group: this.group, node: this.id, change, index: result.index },
      'raft: membership change proposed',
    );
    return result;
  }

  readIndex(context: Uint8Array, options: { lease?: boolean } = {}): void {
    if (this.#role !== Role.Leader) throw new NotLeaderError(this.#leader);
    const lease = options.lease === true;
    if (this.#log.term(this.#log.committed) !== this.#term) {
      this.#pendingReads.push({ context, lease });
      return;
    }
    this.#serveRead(context, lease);
  }

  transferLeadership(to: NodeId): void {
    if (this.#role !== Role.Leader) throw new NotLeaderError(this.#leader);
    if (to === this.id) return;
    if (!isVoter(this.#conf.current, to))
      throw new RaftError('MQ_ERR_BAD_REQUEST', `cannot transfer leadership to ${to}: not a voter`, false);
    if (this.#transferee === to) return;
    this.#transferee = to;
    this.#electionElapsed = 0;
    this.#logger.info({ group: this.group, node: this.id, to }, 'raft: leadership transfer started');
    const pr = this.#progress.get(to)!;
    if (pr.match === this.#log.lastIndex()) this.#send({ type: MessageType.TimeoutNow, to });
    else this.#needsAppend.add(to);
  }

  reportUnreachable(to: NodeId): void {
    const pr = this.#role === Role.Leader ? this.#progress.get(to) : undefined;
    if (!pr || to === this.id) return;
    if (pr.state === 'replicate') pr.becomeProbe();
    else if (pr.state === 'snapshot' && pr.transfer) this.#rewindTransfer(pr);
  }

  step(m: Message): void {
    if (m.group !== this.group || m.to !== this.id || m.term === 0) return;
    if (m.term > this.#term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context !== undefined && m.context.length > 0;
        const inLease =
          this.#opts.checkQuorum && this.#leader !== '' && this.#electionElapsed < this.#opts.electionTick;
        if (inLease && !force) return; // a live leader exists: a disruptive candidate is ignored
      }
      if (m.type === MessageType.PreVote || (m.type === MessageType.PreVoteResp && m.reject !== true)) {
        // Pre-votes do not change terms: a granted answer carries the term the candidate would use.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.#becomeFollower(m.term, m.from);
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
      this.#readStates.length > 0 ||
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
      readStates: this.#readStates,
      mustSync: termOrVoteChanged || entries.length > 0 || snapshot !== undefined,
    };
    this.#msgs = [];
    this.#readStates = [];
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
    if (index > this.#log.applied)
      throw new RangeError(`cannot snapshot at ${index}: only ${this.#log.applied} is applied`);
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
      for (const [id, pr] of this.#progress) {
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
      this.#partialSnapshot = undefined;
    }
    this.#leader = '';
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#randomizedElectionTimeout =
      this.#opts.electionTick + Math.floor(this.#opts.random() * this.#opts.electionTick);
    this.#votes.clear();
    this.#progress.clear();
    this.#needsAppend.clear();
    this.#transferee = '';
    this.#readOnly.reset();
    this.#pendingReads = [];
    this.#uncommittedBytes = 0;
  }

  #becomeFollower(term: number, leader: NodeId): void {
    const wasLeader = this.#role === Role.Leader;
    this.#reset(term);
    this.#role = Role.Follower;
    this.#leader = leader;
    if (wasLeader) this.#logger.info({ group: this.group, node: this.id, term }, 'raft: stepped down');
  }

  #becomePreCandidate(): void {
    // Term and vote stay: a pre-candidate only asks whether it could win.
    this.#votes.clear();
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
    this.#logger.info({ group: this.group, node: this.id, term: this.#term }, 'raft: became leader');
    // The no-op: committing it commits every earlier entry and lets reads and conf changes proceed.
    this.#appendEntry(EntryType.Normal, EMPTY);
  }

  /** Creates/drops progress so there is one per member of the current configuration. */
  #syncProgress(): void {
    const conf = this.#conf.current;
    const wanted = new Set(members(conf));
    for (const id of [...this.#progress.keys()]) if (!wanted.has(id)) this.#progress.delete(id);
    for (const id of wanted) {
      const learner = isLearner(conf, id);
      const pr = this.#progress.get(id);
      if (pr) {
        pr.learner = learner;
        continue;
      }
      const next = new Progress(
        this.#log.lastIndex() + 1,
        learner,
        this.#opts.maxInflightMsgs,
        this.#opts.maxInflightBytes,
      );
      if (id === this.id) {
        next.match = this.#log.lastIndex();
        next.state = 'replicate';
      }
      this.#progress.set(id, next);
      this.#needsAppend.add(id);
    }
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
    this.#logger.debug({ group: this.group, node: this.id, term: this.#term, transfer }, 'raft: starting an election');
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
    this.#votes.set(this.id, true);
    if (voteResult(this.#conf.current.voters, this.#votes) === 'won') {
      if (pre) this.#campaign(false, transfer);
      else this.#becomeLeader();
      return;
    }
    const type = pre ? MessageType.PreVote : MessageType.Vote;
    const lastIndex = this.#log.lastIndex();
    const lastTerm = this.#log.lastTerm();
    for (const to of this.#conf.current.voters) {
      if (to === this.id) continue;
      this.#send({
        type,
        to,
        term: voteTerm,
        index: lastIndex,
        logTerm: lastTerm,
        ...(transfer ? { context: TRANSFER_CONTEXT } : {}),
      });
    }
  }

  #handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    const canVote = this.#vote === m.from || (this.#vote === '' && this.#leader === '') || (pre && m.term > this.#term);
    if (canVote && this.#log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
      // The answer carries the candidate's term so a granted pre-vote is counted in its pre-campaign.
      this.#send({ type: respType, to: m.from, term: m.term });
      if (!pre) {
        this.#electionElapsed = 0;
        this.#vote = m.from;
      }
    } else {
      this.#send({ type: respType, to: m.from, reject: true });
    }
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
        if (!this.#votes.has(m.from)) this.#votes.set(m.from, m.reject !== true);
        const result = voteResult(this.#conf.current.voters, this.#votes);
        if (result === 'won') {
          if (pre) this.#campaign(false, false);
          else {
            this.#becomeLeader();
          }
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
        this.#handleApp(m);
        return;
      case MessageType.Heartbeat:
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#log.commitTo(Math.min(m.commit ?? 0, this.#log.lastIndex()));
        this.#send({ type: MessageType.HeartbeatResp, to: m.from, ...(m.context ? { context: m.context } : {}) });
        return;
      case MessageType.Snap:
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#handleSnapChunk(m);
        return;
      case MessageType.TimeoutNow:
        this.#logger.info({ group: this.group, node: this.id, from: m.from }, 'raft: asked to take over leadership');
        this.#hup(true);
        return;
      default:
        return;
    }
  }

  #handleApp(m: Message): void {
    const prevIndex = m.index ?? 0;
    if (prevIndex < this.#log.committed) {
      this.#send({ type: MessageType.AppResp, to: m.from, index: this.#log.committed });
      return;
    }
    const res = this.#log.maybeAppend(prevIndex, m.logTerm ?? 0, m.entries ?? []);
    if (res) {
      this.#recordConfEntries(res.written);
      this.#log.commitTo(Math.min(m.commit ?? 0, res.lastNew));
      this.#send({ type: MessageType.AppResp, to: m.from, index: res.lastNew });
      return;
    }
    const hint = this.#log.findConflictByTerm(Math.min(prevIndex, this.#log.lastIndex()), m.logTerm ?? 0);
    this.#send({
      type: MessageType.AppResp,
      to: m.from,
      index: prevIndex,
      reject: true,
      rejectHint: hint.index,
      hintTerm: hint.term,
    });
  }

  #handleSnapChunk(m: Message): void {
    const chunk = m.snapshot;
    if (!chunk) return;
    const meta = chunk.meta;
    if (meta.index <= this.#log.committed) {
      this.#partialSnapshot = undefined;
      this.#send({ type: MessageType.AppResp, to: m.from, index: this.#log.committed });
      return;
    }
    let partial = this.#partialSnapshot;
    if (!partial || partial.meta.index !== meta.index || partial.meta.term !== meta.term) {
      if (chunk.offset !== 0) {
        this.#send({ type: MessageType.SnapResp, to: m.from, index: meta.index, reject: true, chunkOffset: 0 });
        return;
      }
      partial = { meta, chunks: [], received: 0 };
      this.#partialSnapshot = partial;
    }
    if (chunk.offset !== partial.received) {
      // A duplicate tells the leader how far we are; a gap asks it to resend from there.
      const gap = chunk.offset > partial.received;
      this.#send({
        type: MessageType.SnapResp,
        to: m.from,
        index: meta.index,
        chunkOffset: partial.received,
        ...(gap ? { reject: true } : {}),
      });
      return;
    }
    partial.chunks.push(chunk.data.slice());
    partial.received += chunk.data.byteLength;
    if (!chunk.done) {
      this.#send({ type: MessageType.SnapResp, to: m.from, index: meta.index, chunkOffset: partial.received });
      return;
    }
    this.#partialSnapshot = undefined;
    const data = new Uint8Array(partial.received);
    let at = 0;
    for (const c of partial.chunks) {
      data.set(c, at);
      at += c.byteLength;
    }
    this.#restore({ meta, data }, m.from);
  }

  #restore(snapshot: Snapshot, from: NodeId): void {
    const { index, term } = snapshot.meta;
    if (this.#log.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: only the commit index moves.
      this.#log.commitTo(index);
      this.#send({ type: MessageType.AppResp, to: from, index: this.#log.committed });
      return;
    }
    this.#logger.info({ group: this.group, node: this.id, index, term }, 'raft: installing a snapshot from the leader');
    this.#log.restore(snapshot);
    this.#conf.reset(index, snapshot.meta.conf);
    // Sent only after the Ready holding the snapshot was persisted.
    this.#send({ type: MessageType.AppResp, to: from, index });
  }

  // ---- leader ----------------------------------------------------------------------------------

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#opts.electionTick) {
      this.#electionElapsed = 0;
      if (this.#opts.checkQuorum) {
        const voters = this.#conf.current.voters;
        if (!hasQuorum(voters, (id) => id === this.id || this.#progress.get(id)?.recentActive === true)) {
          this.#logger.warn(
            { group: this.group, node: this.id, term: this.#term },
            'raft: no quorum heard within an election timeout',
          );
          this.#becomeFollower(this.#term, '');
          return;
        }
        for (const [id, pr] of this.#progress) pr.recentActive = id === this.id;
      }
      if (this.#transferee) {
        this.#logger.warn(
          { group: this.group, node: this.id, to: this.#transferee },
          'raft: leadership transfer timed out',
        );
        this.#transferee = '';
      }
    }
    for (const [id, pr] of this.#progress) {
      const t = pr.transfer;
      if (pr.state === 'snapshot' && t && this.#ticks - t.lastProgressTick >= this.#opts.electionTick) {
        this.#rewindTransfer(pr);
        this.#needsAppend.add(id);
      }
    }
    if (this.#heartbeatElapsed >= this.#opts.heartbeatTick) {
      this.#heartbeatElapsed = 0;
      this.#bcastHeartbeat(this.#readOnly.lastContext());
    }
  }

  #stepLeader(m: Message): void {
    const pr = this.#progress.get(m.from);
    if (!pr || m.from === this.id) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.#heard(pr);
        this.#handleAppResp(m, pr);
        return;
      case MessageType.HeartbeatResp: {
        this.#heard(pr);
        pr.probeSent = false;
        if (pr.match < this.#log.lastIndex()) {
          // Alive but behind: Apps (or their answers) may have been lost; probe with one more App.
          if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
          pr.emptyDue = true;
          this.#needsAppend.add(m.from);
        }
        if (!m.context || m.context.length === 0) return;
        const acks = this.#readOnly.recvAck(m.from, m.context);
        if (acks && hasQuorum(this.#conf.current.voters, (id) => acks.has(id))) {
          this.#readStates.push(...this.#readOnly.advance(m.context));
        }
        return;
      }
      case MessageType.SnapResp: {
        this.#heard(pr);
        const t = pr.transfer;
        if (pr.state !== 'snapshot' || !t || m.index !== t.snapshot.meta.index) return;
        const offset = Math.min(m.chunkOffset ?? 0, t.snapshot.data.byteLength);
        if (m.reject === true) {
          t.acked = offset;
          t.sent = offset;
          t.sentAll = false;
        } else {
          t.acked = Math.max(t.acked, offset);
          t.sent = Math.max(t.sent, t.acked);
        }
        t.lastProgressTick = this.#ticks;
        this.#needsAppend.add(m.from);
        return;
      }
      default:
        return;
    }
  }

  #heard(pr: Progress): void {
    pr.recentActive = true;
    pr.lastHeardTick = this.#ticks;
  }

  #handleAppResp(m: Message, pr: Progress): void {
    const index = m.index ?? 0;
    if (m.reject === true) {
      let hint = m.rejectHint ?? 0;
      if ((m.hintTerm ?? 0) > 0) hint = this.#log.findConflictByTerm(hint, m.hintTerm ?? 0).index;
      if (pr.maybeDecrTo(index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#needsAppend.add(m.from);
      }
      return;
    }
    if (!pr.maybeUpdate(index)) {
      if (pr.state === 'probe' && index === pr.match) pr.probeSent = false;
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.transfer && pr.match >= pr.transfer.snapshot.meta.index)
      pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.inflights.freeLE(index);
    this.#needsAppend.add(m.from);
    this.#maybeCommit();
    if (this.#role === Role.Leader && m.from === this.#transferee && pr.match === this.#log.lastIndex()) {
      this.#logger.info(
        { group: this.group, node: this.id, to: m.from },
        'raft: transferee caught up; sending TimeoutNow',
      );
      this.#send({ type: MessageType.TimeoutNow, to: m.from });
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
    const self = this.#progress.get(this.id);
    if (self) {
      self.match = index;
      self.next = index + 1;
    }
    for (const id of this.#progress.keys()) if (id !== this.id) this.#needsAppend.add(id);
    this.#maybeCommit();
    return { index, term: this.#term };
  }

  /** Advances the commit index to what a majority of voters store, if that entry is of this term. */
  #maybeCommit(): void {
    const idx = committedIndex(this.#conf.current.voters, (id) => this.#progress.get(id)?.match ?? 0);
    // Figure 8: an entry of an earlier term is only committed indirectly, by one of ours after it.
    if (idx <= this.#log.committed || this.#log.term(idx) !== this.#term) return;
    this.#log.commitTo(idx);
    for (const id of this.#progress.keys()) if (id !== this.id) this.#needsAppend.add(id);
    if (this.#pendingReads.length > 0) {
      const reads = this.#pendingReads;
      this.#pendingReads = [];
      for (const r of reads) this.#serveRead(r.context, r.lease);
    }
    if (!isVoter(this.#conf.current, this.id) && this.#log.committed >= this.#conf.currentIndex)
      this.#stepDownRemoved();
  }

  /** The leader's own removal committed: tell everyone, hand over to the most caught-up voter, step down. */
  #stepDownRemoved(): void {
    this.#flushAppends();
    let best: NodeId = '';
    let bestMatch = -1;
    for (const id of this.#conf.current.voters) {
      const match = this.#progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best && bestMatch === this.#log.lastIndex()) this.#send({ type: MessageType.TimeoutNow, to: best });
    this.#logger.info(
      { group: this.group, node: this.id, term: this.#term, successor: best },
      'raft: removed from the group; stepping down',
    );
    this.#becomeFollower(this.#term, '');
  }

  #serveRead(context: Uint8Array, lease: boolean): void {
    const voters = this.#conf.current.voters;
    const index = this.#log.committed;
    if ((voters.length === 1 && voters[0] === this.id) || (lease && this.#leaseValid())) {
      this.#readStates.push({ index, context });
      return;
    }
    this.#readOnly.add(index, context, this.id);
    this.#bcastHeartbeat(context);
  }

  /**
   * Lease reads: with check-quorum, followers that heard from us within an election timeout refuse to
   * elect anybody else; so while a quorum answered us within the last electionTick ticks no other leader
   * can exist (assuming bounded clock drift between members).
   */
  #leaseValid(): boolean {
    if (!this.#opts.checkQuorum) return false;
    return hasQuorum(this.#conf.current.voters, (id) => {
      if (id === this.id) return true;
      const pr = this.#progress.get(id);
      return pr !== undefined && this.#ticks - pr.lastHeardTick < this.#opts.electionTick;
    });
  }

  #bcastHeartbeat(context: Uint8Array | undefined): void {
    for (const [to, pr] of this.#progress) {
      if (to === this.id) continue;
      this.#send({
        type: MessageType.Heartbeat,
        to,
        commit: Math.min(pr.match, this.#log.committed),
        ...(context ? { context } : {}),
      });
    }
  }

  /** Sends what every marked follower can take now: batched entries, pipelined within the limits. */
  #flushAppends(): void {
    if (this.#role !== Role.Leader) {
      this.#needsAppend.clear();
      return;
    }
    for (const to of this.#needsAppend) {
      let guard = 0;
      while (this.#maybeSendAppend(to) && guard++ < 1_000_000);
    }
    this.#needsAppend.clear();
  }

  /** Sends one App (or snapshot chunks) to `to`; true when another App could follow right away. */
  #maybeSendAppend(to: NodeId): boolean {
    const pr = this.#progress.get(to);
    if (!pr || to === this.id) return false;
    if (pr.state === 'snapshot') {
      this.#sendSnapshotChunks(to, pr);
      return false;
    }
    if (pr.paused()) return false;
    const lastIndex = this.#log.lastIndex();
    const prevIndex = pr.next - 1;
    const prevTerm = this.#log.term(prevIndex);
    let entries: Entry[] | undefined = [];
    if (pr.next <= lastIndex) {
      const budget =
        pr.state === 'replicate'
          ? Math.min(this.#opts.maxSizePerMsg, pr.inflights.freeBytes)
          : this.#opts.maxSizePerMsg;
      entries = this.#log.entries(pr.next, lastIndex + 1, budget);
    }
    if (prevTerm === undefined || entries === undefined) {
      this.#startSnapshot(to, pr);
      return false;
    }
    const needProbe = (pr.state === 'probe' || pr.emptyDue) && pr.match < lastIndex;
    if (entries.length === 0 && pr.sentCommit >= this.#log.committed && !needProbe) return false;
    pr.emptyDue = false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    this.#send({
      type: MessageType.App,
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.#log.committed,
    });
    pr.sentCommit = this.#log.committed;
    pr.sentEntries(prevIndex + entries.length, bytes, entries.length);
    return entries.length > 0 && pr.state === 'replicate';
  }

  #startSnapshot(to: NodeId, pr: Progress): void {
    const snapshot = this.#log.snapshot();
    if (snapshot.meta.index === 0) {
      this.#logger.error({ group: this.group, node: this.id, to }, 'raft: entries compacted but no snapshot to send');
      return;
    }
    this.#logger.info(
      { group: this.group, node: this.id, to, index: snapshot.meta.index, bytes: snapshot.data.byteLength },
      'raft: sending a snapshot',
    );
    pr.becomeSnapshot(snapshot, this.#ticks);
    this.#sendSnapshotChunks(to, pr);
  }

  /** Streams InstallSnapshot chunks within a window of a few chunks (bounded by the inflight limits). */
  #sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const t = pr.transfer;
    if (!t) return;
    const chunkBytes = this.#opts.snapshotChunkBytes;
    const window = Math.max(
      chunkBytes,
      Math.min(this.#opts.maxInflightBytes, chunkBytes * Math.min(4, this.#opts.maxInflightMsgs)),
    );
    const data = t.snapshot.data;
    while (!t.sentAll && t.sent - t.acked < window) {
      const end = Math.min(data.byteLength, t.sent + chunkBytes);
      const done = end >= data.byteLength;
      this.#send({
        type: MessageType.Snap,
        to,
        snapshot: { meta: t.snapshot.meta, offset: t.sent, data: data.subarray(t.sent, end), done },
      });
      t.sent = end;
      if (done) t.sentAll = true;
    }
  }

  #rewindTransfer(pr: Progress): void {
    const t = pr.transfer;
    if (!t) return;
    t.sent = t.acked;
    t.sentAll = false;
    t.lastProgressTick = this.#ticks;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #send(m: Outgoing): void {
    this.#msgs.push({ ...m, group: this.group, from: this.id, term: m.term ?? this.#term });
  }

  /** Entries just written to the log: ConfChange ones change the membership at once (on append). */
  #recordConfEntries(written: readonly Entry[]): void {
    if (written.length === 0) return;
    const before = this.#conf.currentIndex;
    this.#conf.truncateFrom(written[0].index);
    for (const e of written)
      if (e.type === EntryType.ConfChange) this.#conf.push(e.index, decodeConfChangeEntry(e.data).conf);
    if (this.#conf.currentIndex !== before && this.#role === Role.Leader) {
      this.#syncProgress();
    }
  }

  #scanConfEntries(from: number): void {
    const last = this.#log.lastIndex();
    for (let lo = from; lo <= last;) {
      const batch = this.#log.entries(lo, last + 1, 8 << 20);
      if (!batch || batch.length === 0) break;
      for (const e of batch)
        if (e.type === EntryType.ConfChange) this.#conf.push(e.index, decodeConfChangeEntry(e.data).conf);
      lo += batch.length;
    }
  }

  #bootstrap(peers: readonly NodeId[]): void {
    const conf = makeConf(peers);
    const entry: Entry = { index: 1, term: 1, type: EntryType.ConfChange, data: encodeConfChangeEntry({ conf }) };
    this.#log.append([entry]);
    this.#conf.push(1, conf);
    this.#term = 1;
    this.#log.commitTo(1);
    this.#logger.info({ group: this.group, node: this.id, peers: conf.voters }, 'raft: bootstrapped a new group');
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
