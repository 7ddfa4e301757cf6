import type { Entry, HardState, Message, NodeId, Snapshot } from '../types.js';
import { MessageType } from '../types.js';
import type { LogImage } from './durable-log.js';
import { entryHash } from './toy-state-machine.js';

/** A broken invariant: which one, and what exactly was seen. */
export class SimViolation extends Error {
  readonly invariant: string;
  readonly detail: string;
  readonly time: number;

  constructor(invariant: string, detail: string, time: number) {
    super(`${invariant}: ${detail} (at t=${time})`);
    this.name = 'SimViolation';
    this.invariant = invariant;
    this.detail = detail;
    this.time = time;
  }
}

interface CommittedEntry {
  readonly term: number;
  readonly hash: number;
  /** The client value, for normal entries that carry one. */
  readonly value: string | undefined;
  /**
   * Lowest term in which some node was seen applying it: an upper bound of the term it was committed in.
   * The leader of that term (it committed the entry, or got it from an earlier one) and of every later
   * term must hold it.
   */
  commitTerm: number;
}

export interface AckedWrite {
  readonly value: string;
  readonly index: number;
  readonly term: number;
  readonly at: number;
}

/** What the checker needs to see of a live node. */
export interface LeaderView {
  readonly id: NodeId;
  readonly term: number;
  readonly durable: LogImage;
}

/**
 * The safety properties of Raft (paper, Figure 3) plus the client-visible ones, checked incrementally as
 * the simulator produces events. Every check is against the DURABLE state of nodes where durability
 * matters, so a core that answers before persisting is caught even if no crash happens to expose it.
 */
export class InvariantChecker {
  readonly #now: () => number;
  readonly #leaderOfTerm = new Map<number, NodeId>();
  /** committed[i] describes the entry at index i once any node applied it. */
  readonly #committed: (CommittedEntry | undefined)[] = [];
  /** Every (index, term) ever made durable: content and the term of the entry before it. */
  readonly #everLogged = new Map<string, { hash: number; prevTerm: number | undefined }>();
  readonly #durableVotes = new Map<NodeId, Map<number, NodeId>>();
  readonly acked: AckedWrite[] = [];
  /** Values of committed normal entries in index order, for snapshot comparison. */
  readonly #committedValues: { index: number; value: string }[] = [];
  elections = 0;
  maxCommitted = 0;
  /** When false, messages are not checked against durable state (to prove the end-to-end checks alone catch bugs). */
  checkSendAfterSync = true;

  constructor(now: () => number) {
    this.#now = now;
  }

  fail(invariant: string, detail: string): never {
    throw new SimViolation(invariant, detail, this.#now());
  }

  get leaders(): ReadonlyMap<number, NodeId> {
    return this.#leaderOfTerm;
  }

  committedAt(index: number): { term: number; hash: number; value: string | undefined } | undefined {
    return this.#committed[index];
  }

  /** Election Safety (at most one leader per term) and Leader Completeness for a newly seen leader. */
  observeLeader(view: LeaderView): void {
    const known = this.#leaderOfTerm.get(view.term);
    if (known === view.id) return;
    if (known !== undefined) {
      this.fail('election safety', `two leaders in term ${view.term}: ${known} and ${view.id}`);
    }
    this.#leaderOfTerm.set(view.term, view.id);
    this.elections++;
    for (let i = 1; i < this.#committed.length; i++) {
      const c = this.#committed[i];
      if (c !== undefined && c.commitTerm <= view.term) this.#requireHas(view, i, c, 'new leader');
    }
  }

  #requireHas(view: LeaderView, index: number, c: CommittedEntry, when: string): void {
    if (!view.durable.covers(index, c.term)) {
      this.fail(
        'leader completeness',
        `${when} ${view.id} (term ${view.term}) lacks committed entry ${index}/${c.term} (committed by term ${c.commitTerm}); ` +
          `its log has term ${String(view.durable.termAt(index))} there, last index ${view.durable.lastIndex}`,
      );
    }
  }

  /** A hard state became durable: terms never go back, one vote per term, commit never goes back. */
  onHardStateDurable(node: NodeId, before: HardState, after: HardState): void {
    if (after.term < before.term) this.fail('term monotonic', `${node} persisted term ${after.term} after ${before.term}`);
    if (after.term === before.term && before.vote !== '' && after.vote !== before.vote) {
      this.fail('one vote per term', `${node} changed its vote in term ${after.term} from ${before.vote} to ${after.vote || '(none)'}`);
    }
    if (after.commit < before.commit) this.fail('commit monotonic', `${node} persisted commit ${after.commit} after ${before.commit}`);
    if (after.vote !== '') {
      let votes = this.#durableVotes.get(node);
      if (!votes) this.#durableVotes.set(node, (votes = new Map<number, NodeId>()));
      const prior = votes.get(after.term);
      if (prior !== undefined && prior !== after.vote) {
        this.fail('one vote per term', `${node} voted for ${prior} and later for ${after.vote} in term ${after.term}`);
      }
      votes.set(after.term, after.vote);
    }
  }

  /** Log Matching over durable logs: an (index, term) pair always names the same entry and the same predecessor. */
  onEntriesDurable(node: NodeId, image: LogImage, entries: readonly Entry[]): void {
    let prev: Entry | undefined;
    for (const e of entries) {
      if (prev && (e.index !== prev.index + 1 || e.term < prev.term)) {
        this.fail('log shape', `${node} persisted ${prev.index}/${prev.term} followed by ${e.index}/${e.term}`);
      }
      prev = e;
      if (image.termAt(e.index) !== e.term) continue; // already superseded or compacted in the same step
      const key = `${e.index}/${e.term}`;
      const hash = entryHash(e);
      const prevTerm = e.index - 1 >= image.firstIndex - 1 ? image.termAt(e.index - 1) : undefined;
      const seen = this.#everLogged.get(key);
      if (seen === undefined) {
        this.#everLogged.set(key, { hash, prevTerm });
        continue;
      }
      if (seen.hash !== hash) this.fail('log matching', `entry ${key} has different contents on ${node}`);
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        this.fail('log matching', `entry ${key} on ${node} follows term ${prevTerm} at ${e.index - 1}, elsewhere term ${seen.prevTerm}`);
      }
      if (seen.prevTerm === undefined && prevTerm !== undefined) seen.prevTerm = prevTerm;
    }
  }

  /**
   * A node is about to send: every message may only depend on durable state (its term, its vote, the
   * entries it acknowledges). PreVote traffic carries a prospective term that is never persisted.
   */
  beforeSend(node: NodeId, durable: LogImage, messages: readonly Message[]): void {
    if (!this.checkSendAfterSync) return;
    const hs = durable.hardState;
    for (const m of messages) {
      if (m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) continue;
      if (m.term > hs.term) {
        this.fail('persist before send', `${node} sends ${m.type} of term ${m.term} to ${m.to} but its durable term is ${hs.term}`);
      }
      // A grant is safe once the vote is durable, or once a later term is (the node can never vote in m.term again).
      if (m.type === MessageType.VoteResp && m.reject !== true && hs.term === m.term) {
        const vote = this.#durableVotes.get(node)?.get(m.term);
        if (vote !== m.to) {
          this.fail('persist before send', `${node} grants its term-${m.term} vote to ${m.to} but its durable vote is ${vote ?? '(none)'}`);
        }
      }
      // An ack of the current durable term must be backed by the durable log. An ack of an older term may
      // trail a truncation by the next leader (it was true when generated): it can never complete a quorum,
      // since any majority of term-T acks overlaps the voters of the later leader, which then holds the entries.
      if (m.type === MessageType.AppResp && m.reject !== true && m.index !== undefined && m.term === hs.term) {
        if (m.index > durable.lastIndex && m.index > durable.snapshot.meta.index) {
          this.fail('persist before send', `${node} acknowledges index ${m.index} but its durable log ends at ${durable.lastIndex}`);
        }
      }
    }
  }

  /** State Machine Safety: no two nodes apply different entries at one index. */
  onApply(node: NodeId, nodeTerm: number, entry: Entry, leaders: readonly LeaderView[], value?: string): void {
    const hash = entryHash(entry);
    const known = this.#committed[entry.index];
    if (known === undefined) {
      const c: CommittedEntry = { term: entry.term, hash, value, commitTerm: nodeTerm };
      this.#committed[entry.index] = c;
      if (entry.index > this.maxCommitted) this.maxCommitted = entry.index;
      if (value !== undefined) this.#committedValues.push({ index: entry.index, value });
      for (const l of leaders) if (l.term >= c.commitTerm) this.#requireHas(l, entry.index, c, 'leader');
      return;
    }
    if (known.term !== entry.term || known.hash !== hash) {
      this.fail('state machine safety', `${node} applies ${entry.index}/${entry.term} but ${entry.index}/${known.term} was applied elsewhere`);
    }
    if (nodeTerm < known.commitTerm) known.commitTerm = nodeTerm;
  }

  /** An installed snapshot must hold exactly the values committed up to its index, and match its entry. */
  onSnapshotInstalled(node: NodeId, snapshot: Snapshot, values: readonly string[]): void {
    const { index, term } = snapshot.meta;
    const c = this.#committed[index];
    if (c !== undefined && c.term !== term) {
      this.fail('snapshot', `${node} installs a snapshot at ${index}/${term} but ${index}/${c.term} was committed`);
    }
    const expected = this.#committedValues.filter((v) => v.index <= index).map((v) => v.value);
    let complete = true;
    for (let i = 1; i <= index; i++) if (this.#committed[i] === undefined) complete = false;
    if (complete && (expected.length !== values.length || expected.some((v, k) => v !== values[k]))) {
      this.fail('snapshot', `${node} installs a snapshot at ${index} with ${values.length} values; ${expected.length} were committed up to there`);
    }
  }

  onAck(write: AckedWrite): void {
    const c = this.#committed[write.index];
    if (c === undefined || c.term !== write.term) {
      this.fail('acknowledged write', `${write.value} acknowledged at ${write.index}/${write.term} which is not what was applied there`);
    }
    this.acked.push(write);
  }

  /** A linearizable read must see every write acknowledged before it started. */
  checkRead(node: NodeId, context: string, ackedBefore: number, has: (value: string) => boolean, readIndex: number): void {
    for (let k = 0; k < ackedBefore; k++) {
      const w = this.acked[k];
      if (!has(w.value)) {
        this.fail(
          'linearizable read',
          `read ${context} on ${node} at index ${readIndex} misses ${w.value} acknowledged at ${w.index} (t=${w.at}) before the read began`,
        );
      }
    }
  }
}
