import type { ConfHistory } from './membership.js';
import type { RaftLog } from './raft-log.js';
import type { OutgoingMessage } from './replicator.js';
import { SnapshotAssembler } from './snapshot-transfer.js';
import type { Entry, Message, NodeId, Snapshot } from './types.js';
import { MessageType } from './types.js';

export interface ReceiverContext {
  readonly log: RaftLog;
  readonly conf: ConfHistory;
  send(m: OutgoingMessage): void;
  /** Entries just written to the log (ConfChange ones take effect on append). */
  written(entries: readonly Entry[]): void;
  installing(snapshot: Snapshot): void;
}

/**
 * The follower's side of replication, the counterpart of the leader's Replicator: the append consistency
 * check with conflict hints for fast backtracking, the commit rule of Figure 2, and InstallSnapshot chunks
 * assembled into a snapshot to restore. Every answer leaves in the Ready that persists what it acknowledges.
 */
export class ReplicationReceiver {
  readonly #ctx: ReceiverContext;
  /** InstallSnapshot chunks received so far. */
  readonly #assembler = new SnapshotAssembler();

  constructor(ctx: ReceiverContext) {
    this.#ctx = ctx;
  }

  /** A new term: chunks of an earlier leader's snapshot are of no use. */
  reset(): void {
    this.#assembler.reset();
  }

  handleApp(m: Message): void {
    const { log } = this.#ctx;
    const prevIndex = m.index ?? 0;
    if (prevIndex < log.committed) {
      this.#ctx.send({ type: MessageType.AppResp, to: m.from, index: log.committed });
      return;
    }
    const res = log.maybeAppend(prevIndex, m.logTerm ?? 0, m.entries ?? []);
    if (res) {
      this.#ctx.written(res.written);
      // Not up to our last index: entries past the batch may be stale ones the leader has not replaced yet.
      log.commitTo(Math.min(m.commit ?? 0, res.lastNew));
      this.#ctx.send({ type: MessageType.AppResp, to: m.from, index: res.lastNew });
      return;
    }
    const hint = log.findConflictByTerm(Math.min(prevIndex, log.lastIndex()), m.logTerm ?? 0);
    this.#ctx.send({
      type: MessageType.AppResp,
      to: m.from,
      index: prevIndex,
      reject: true,
      rejectHint: hint.index,
      hintTerm: hint.term,
    });
  }

  handleSnapChunk(m: Message): void {
    const { log } = this.#ctx;
    const chunk = m.snapshot;
    if (!chunk) return;
    if (chunk.meta.index <= log.committed) {
      // We already have everything it holds: tell the leader where we are.
      this.#assembler.reset();
      this.#ctx.send({ type: MessageType.AppResp, to: m.from, index: log.committed });
      return;
    }
    const outcome = this.#assembler.offer(chunk);
    if (outcome.kind === 'done') {
      this.#restore(outcome.snapshot, m.from);
      return;
    }
    const reject = outcome.kind === 'reject' ? { reject: true } : {};
    this.#ctx.send({
      type: MessageType.SnapResp,
      to: m.from,
      index: chunk.meta.index,
      chunkOffset: outcome.offset,
      ...reject,
    });
  }

  #restore(snapshot: Snapshot, from: NodeId): void {
    const { log, conf } = this.#ctx;
    const { index, term } = snapshot.meta;
    if (log.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: only the commit index moves.
      log.commitTo(index);
      this.#ctx.send({ type: MessageType.AppResp, to: from, index: log.committed });
      return;
    }
    this.#ctx.installing(snapshot);
    log.restore(snapshot);
    conf.reset(index, snapshot.meta.conf);
    // Sent only after the Ready holding the snapshot was persisted.
    this.#ctx.send({ type: MessageType.AppResp, to: from, index });
  }
}
