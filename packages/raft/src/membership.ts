import { decodeConfChangeEntry, encodeConfChangeEntry } from './codec.js';
import { ConfChangeRejectedError } from './errors.js';
import type { RaftLog } from './raft-log.js';
import type { ConfChange, ConfState, Entry, NodeId } from './types.js';
import { ConfChangeType, EntryType } from './types.js';

/**
 * Membership: applying one single-server change to a configuration, and the history of configurations
 * found in the log. A member uses the latest configuration in its log, committed or not (dissertation
 * 4.1), so truncating the log can revert a configuration and the history must remember the previous one.
 */

export const EMPTY_CONF: ConfState = Object.freeze({ voters: [], learners: [], votersOutgoing: [] });

export function isVoter(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id);
}

export function isLearner(conf: ConfState, id: NodeId): boolean {
  return conf.learners.includes(id);
}

/** Voters then learners. */
export function members(conf: ConfState): NodeId[] {
  return [...conf.voters, ...conf.learners];
}

export function makeConf(voters: readonly NodeId[], learners: readonly NodeId[] = []): ConfState {
  return { voters: [...new Set(voters)].sort(), learners: [...new Set(learners)].sort(), votersOutgoing: [] };
}

/**
 * The configuration after `change`. Throws ConfChangeRejectedError (not retriable) for a change that
 * makes no sense: adding a member twice, removing an unknown one, demoting a voter, removing the last voter.
 */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const { node } = change;
  if (!node) throw new ConfChangeRejectedError('empty node id', false);
  const voter = isVoter(conf, node);
  const learner = isLearner(conf, node);
  switch (change.type) {
    case ConfChangeType.AddVoter:
      if (voter) throw new ConfChangeRejectedError(`${node} is already a voter`, false);
      return makeConf(
        [...conf.voters, node],
        conf.learners.filter((l) => l !== node),
      );
    case ConfChangeType.AddLearner:
      if (voter)
        throw new ConfChangeRejectedError(`${node} is a voter; remove it before adding it as a learner`, false);
      if (learner) throw new ConfChangeRejectedError(`${node} is already a learner`, false);
      return makeConf(conf.voters, [...conf.learners, node]);
    case ConfChangeType.RemoveNode:
      if (!voter && !learner) throw new ConfChangeRejectedError(`${node} is not a member`, false);
      if (voter && conf.voters.length === 1) throw new ConfChangeRejectedError('cannot remove the last voter', false);
      return makeConf(
        conf.voters.filter((v) => v !== node),
        conf.learners.filter((l) => l !== node),
      );
    default:
      throw new ConfChangeRejectedError(`unknown change type ${String(change.type)}`, false);
  }
}

/**
 * Configurations by log index: a base (from the snapshot, or empty) and one item per ConfChange entry
 * in the log after it. Items are few (one per membership change), so arrays are fine.
 */
export class ConfHistory {
  #items: { index: number; conf: ConfState }[];

  constructor(baseIndex: number, baseConf: ConfState) {
    this.#items = [{ index: baseIndex, conf: baseConf }];
  }

  /** The configuration in force: the latest in the log. */
  get current(): ConfState {
    return this.#last.conf;
  }

  /** Index of the entry that set the current configuration (the base index when none after it). */
  get currentIndex(): number {
    return this.#last.index;
  }

  /** The configuration in force at `index` (the latest one at or before it). */
  at(index: number): ConfState {
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const item = this.#items[i];
      if (item.index <= index) return item.conf;
    }
    return this.#items[0].conf;
  }

  /** Records a ConfChange entry appended at `index` (entries at or after it were truncated first). */
  push(index: number, conf: ConfState): void {
    this.truncateFrom(index);
    this.#items.push({ index, conf });
  }

  /**
   * Entries were written to the log (replacing any from written[0].index on): their ConfChange entries
   * take effect now. Returns true when the configuration in force changed.
   */
  record(written: readonly Entry[]): boolean {
    if (written.length === 0) return false;
    const before = this.#last;
    this.truncateFrom(written[0].index);
    for (const e of written)
      if (e.type === EntryType.ConfChange) this.push(e.index, decodeConfChangeEntry(e.data).conf);
    return this.#last !== before;
  }

  /** Rebuilds the history of a restarted node: the snapshot's configuration, then the log's ConfChange entries. */
  static fromLog(log: RaftLog, baseIndex: number, baseConf: ConfState): ConfHistory {
    const history = new ConfHistory(baseIndex, baseConf);
    const last = log.lastIndex();
    for (let lo = baseIndex + 1; lo <= last;) {
      const batch = log.entries(lo, last + 1, 8 << 20);
      if (!batch || batch.length === 0) break;
      history.record(batch);
      lo += batch.length;
    }
    return history;
  }

  /** The log was truncated: entries at `index` and after are gone, and so are their configurations. */
  truncateFrom(index: number): void {
    while (this.#items.length > 1 && this.#last.index >= index) this.#items.pop();
  }

  /** A snapshot replaced the log: its configuration is the new base. */
  reset(index: number, conf: ConfState): void {
    this.#items = [{ index, conf }];
  }

  /** The log was compacted up to `index`: configurations before the one in force at `index` are dropped. */
  compact(index: number): void {
    let keep = 0;
    for (let i = 0; i < this.#items.length; i++) if (this.#items[i].index <= index) keep = i;
    this.#items = this.#items.slice(keep);
  }

  get #last(): { index: number; conf: ConfState } {
    return this.#items[this.#items.length - 1];
  }
}

/** Entry 1 of a new group (as etcd bootstraps): a ConfChange entry holding the initial voters. */
export function bootstrapEntry(peers: readonly NodeId[]): Entry {
  const conf = makeConf(peers);
  return { index: 1, term: 1, type: EntryType.ConfChange, data: encodeConfChangeEntry({ conf }) };
}
