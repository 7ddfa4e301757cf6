/**
 * A few-line network for the core's unit tests (the full simulator lives in src/sim): nodes in a map,
 * a trivial in-memory LogReader each, and a loop that runs the ready cycle and delivers messages.
 */
import { CompactedError, UnavailableError } from '../src/errors.js';
import { EMPTY_CONF } from '../src/membership.js';
import type { RaftOptions } from '../src/options.js';
import { RaftNode } from '../src/raft-node.js';
import { seededRandom } from '../src/seeded-random.js';
import type { LogReader } from '../src/storage.js';
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ReadState,
  Ready,
  Snapshot,
  MessageType,
} from '../src/types.js';
import { EntryType, Role } from '../src/types.js';

export class TestStorage implements LogReader {
  hard: HardState = { term: 0, vote: '', commit: 0 };
  snap: Snapshot = { meta: { index: 0, term: 0, conf: EMPTY_CONF }, data: new Uint8Array() };
  /** log[0] is the entry at snap.meta.index + 1. */
  log: Entry[] = [];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.meta.conf };
  }
  firstIndex(): number {
    return this.snap.meta.index + 1;
  }
  lastIndex(): number {
    return this.snap.meta.index + this.log.length;
  }
  term(index: number): number {
    if (index === this.snap.meta.index) return this.snap.meta.term;
    if (index < this.snap.meta.index) throw new CompactedError(index, this.firstIndex());
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    return this.log[index - this.firstIndex()].term;
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.firstIndex()];
      bytes += e.data.byteLength + 16;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
  snapshot(): Snapshot {
    return this.snap;
  }
  /** Performs a Ready's writes. */
  persist(rd: Ready): void {
    if (rd.snapshot) {
      this.snap = rd.snapshot;
      this.log = [];
    }
    if (rd.entries.length > 0) {
      const keep = rd.entries[0].index - this.firstIndex();
      if (keep < this.log.length) this.log = this.log.slice(0, keep);
      for (const e of rd.entries) this.log.push(e);
    }
    if (rd.hardState) this.hard = rd.hardState;
  }
  /** The application took a snapshot: drop the log up to it. */
  compact(snapshot: Snapshot): void {
    this.log = this.log.slice(snapshot.meta.index - this.firstIndex() + 1);
    this.snap = snapshot;
  }
}

export interface Member {
  node: RaftNode;
  storage: TestStorage;
  /** Data of every applied normal entry, in order (the "state machine"). */
  applied: Entry[];
  readStates: ReadState[];
  /** Snapshot data the application installed. */
  installed: Snapshot[];
}

/** Decides the fate of a message: deliver it (true), drop it (false) or deliver a rewritten one. */
export type Filter = (m: Message) => boolean | Message;

export class Net {
  readonly members = new Map<NodeId, Member>();
  /** Messages in flight, delivered by deliver(). */
  queue: Message[] = [];
  /** Every message sent, for assertions. */
  sent: Message[] = [];
  /** Return false to drop a message. */
  filter: Filter = () => true;
  readonly #opts: Partial<RaftOptions>;
  #seed = 1;

  constructor(ids: readonly NodeId[], opts: Partial<RaftOptions> = {}, bootstrap = true) {
    this.#opts = opts;
    for (const id of ids) this.add(id, bootstrap ? ids : []);
  }

  add(
    id: NodeId,
    peers: readonly NodeId[] = [],
    storage = new TestStorage(),
    extra: Partial<RaftOptions> = {},
  ): Member {
    const node = new RaftNode({
      id,
      group: 'g',
      storage,
      peers,
      random: seededRandom(this.#seed++),
      ...this.#opts,
      ...extra,
    });
    const m: Member = { node, storage, applied: [], readStates: [], installed: [] };
    this.members.set(id, m);
    return m;
  }

  /** Restarts a member from its storage (un-persisted state is lost, as in a crash). */
  restart(id: NodeId, extra: Partial<RaftOptions> = {}): Member {
    const old = this.get(id);
    const m = this.add(id, [], old.storage, {
      applied: old.applied.length > 0 ? old.applied[old.applied.length - 1].index : undefined,
      ...extra,
    });
    m.applied = old.applied;
    return m;
  }

  get(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: NodeId): RaftNode {
    return this.get(id).node;
  }

  /** One ready cycle on every node: persist, queue messages, apply, advance. */
  cycle(): boolean {
    let any = false;
    for (const m of this.members.values()) {
      if (!m.node.hasReady()) continue;
      any = true;
      const rd = m.node.ready();
      m.storage.persist(rd);
      for (const msg of rd.messages) {
        this.sent.push(msg);
        const fate = this.filter(msg);
        if (fate === true) this.queue.push(msg);
        else if (fate !== false) this.queue.push(fate);
      }
      if (rd.snapshot) {
        m.installed.push(rd.snapshot);
        m.applied = m.applied.filter((e) => e.index <= rd.snapshot!.meta.index);
      }
      for (const e of rd.committedEntries) m.applied.push(e);
      m.readStates.push(...rd.readStates);
      m.node.advance(rd);
    }
    return any;
  }

  /** Delivers everything queued (to members that exist). */
  deliver(): boolean {
    const q = this.queue;
    this.queue = [];
    for (const msg of q) this.members.get(msg.to)?.node.step(msg);
    return q.length > 0;
  }

  /** Runs ready cycles and deliveries until quiet (bounded). */
  settle(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      const a = this.cycle();
      const b = this.deliver();
      if (!a && !b) return;
    }
    throw new Error('network did not settle');
  }

  tickAll(n = 1, ids: readonly NodeId[] = [...this.members.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.node(id).tick();
      this.settle();
    }
  }

  /** Makes `id` leader by campaigning and settling. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
    if (this.node(id).softState.role !== Role.Leader) throw new Error(`${id} did not become leader`);
  }

  leaders(): NodeId[] {
    return [...this.members.values()].filter((m) => m.node.softState.role === Role.Leader).map((m) => m.node.id);
  }

  /** Drops every message from or to `id` (true) or lets them through again (false). */
  isolate(...ids: NodeId[]): void {
    const set = new Set(ids);
    this.filter = (m) => !set.has(m.from) && !set.has(m.to);
  }

  heal(): void {
    this.filter = () => true;
  }

  /** Application data applied by `id` (normal, non-empty entries), as strings. */
  data(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.byteLength > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function msgsOfType(msgs: readonly Message[], type: MessageType): Message[] {
  return msgs.filter((m) => m.type === type);
}

/** One node on its own, driven by crafted messages: the unit-test style of etcd's raft_paper_test. */
export class Solo {
  readonly node: RaftNode;
  readonly storage: TestStorage;

  constructor(
    id: NodeId,
    opts: {
      voters?: NodeId[];
      learners?: NodeId[];
      terms?: number[];
      term?: number;
      vote?: NodeId;
      commit?: number;
    } & Partial<RaftOptions> = {},
  ) {
    const { voters = ['a', 'b', 'c'], learners = [], terms = [], term = 0, vote = '', commit = 0, ...rest } = opts;
    this.storage = new TestStorage();
    this.storage.snap = {
      meta: { index: 0, term: 0, conf: { voters, learners, votersOutgoing: [] } },
      data: new Uint8Array(),
    };
    this.storage.log = terms.map((t, i) => ({ index: i + 1, term: t, type: EntryType.Normal, data: enc(`e${i + 1}`) }));
    this.storage.hard = { term: Math.max(term, terms[terms.length - 1] ?? 0), vote, commit };
    this.node = new RaftNode({
      id,
      group: 'g',
      storage: this.storage,
      random: seededRandom(7),
      preVote: false,
      checkQuorum: false,
      ...rest,
    });
  }

  /** Runs one ready cycle (persisting it) and returns it; an empty Ready when there is nothing. */
  ready(): Ready {
    if (!this.node.hasReady())
      return { group: 'g', entries: [], committedEntries: [], messages: [], readStates: [], mustSync: false };
    const rd = this.node.ready();
    this.storage.persist(rd);
    this.node.advance(rd);
    return rd;
  }

  /** Messages produced so far. */
  msgs(): Message[] {
    return [...this.ready().messages];
  }

  step(m: Partial<Message> & Pick<Message, 'type' | 'from' | 'term'>): void {
    this.node.step({ group: 'g', to: this.node.id, ...m });
  }

  ticks(n: number): void {
    for (let i = 0; i < n; i++) this.node.tick();
  }

  /** Terms of the whole log, read back through the node's status and storage. */
  logTerms(): number[] {
    return this.storage.log.map((e) => e.term);
  }
}
