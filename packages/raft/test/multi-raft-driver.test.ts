/**
 * The driver's batching and ordering, checked with a scripted fake node (no consensus involved): one
 * transaction per pass for every group, apply inside it, messages only after it commits, advance last.
 */
import { describe, expect, it } from 'vitest';
import { GroupStoppedError, OutcomeUnknownError, UnknownGroupError } from '../src/driver-errors.js';
import { NotLeaderError, ProposalDroppedError } from '../src/errors.js';
import { MultiRaft } from '../src/multi-raft.js';
import type { RaftNodeApi, RaftStatus } from '../src/node-api.js';
import type { RaftOptions } from '../src/options.js';
import type { StateMachine } from '../src/state-machine.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { GroupStorage, RaftStorage } from '../src/storage.js';
import { ManualTicker } from '../src/ticker.js';
import type { Transport } from '../src/transport.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  Message,
  NodeId,
  Ready,
  ReadState,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from '../src/types.js';
import { EntryType, MessageType, Role } from '../src/types.js';

const conf: ConfState = { voters: ['n1'], learners: [], votersOutgoing: [] };

/** A one-member "group": a proposal is appended and committed in the same Ready; messages are scripted. */
class FakeNode implements RaftNodeApi {
  readonly id: NodeId;
  readonly group: string;
  softState: SoftState = { role: Role.Leader, leader: 'n1', term: 1 };
  term = 1;
  last: number;
  applied: number;
  ticks = 0;
  stepped: Message[] = [];
  snapshots: Snapshot[] = [];
  leading = true;
  #entries: Entry[] = [];
  #committedOnly: Entry[] = [];
  #messages: Message[] = [];
  #reads: ReadState[] = [];
  #snapshot: Snapshot | undefined;
  #soft: SoftState | undefined;
  #outstanding: Ready | undefined;

  constructor(
    options: RaftOptions,
    readonly log: string[],
  ) {
    this.id = options.id;
    this.group = options.group;
    this.last = options.storage.lastIndex();
    this.applied = options.applied ?? 0;
  }

  tick(): void {
    this.ticks++;
  }
  step(m: Message): void {
    this.stepped.push(m);
  }
  propose(data: Uint8Array): { index: number; term: number } {
    if (!this.leading) throw new NotLeaderError('n2');
    const e = { index: ++this.last, term: this.term, type: EntryType.Normal, data };
    this.#entries.push(e);
    this.#messages.push({
      type: MessageType.App,
      group: this.group,
      from: this.id,
      to: 'n2',
      term: this.term,
      entries: [e],
    });
    return { index: e.index, term: e.term };
  }
  proposeConfChange(_change: ConfChange): { index: number; term: number } {
    return this.propose(new Uint8Array([0xcc]));
  }
  readIndex(context: Uint8Array): void {
    if (!this.leading) throw new NotLeaderError('');
    this.#reads.push({ index: this.last, context });
  }
  transferLeadership(): void {}
  campaign(): void {}
  /** Test hooks: a leader's snapshot arrives / leadership is lost / an entry is overwritten. */
  receiveSnapshot(s: Snapshot): void {
    this.#snapshot = s;
    this.#entries = [];
    this.last = s.meta.index;
  }
  overwrite(term: number): void {
    this.#entries = [];
    this.#messages = [];
    this.term = term;
    this.last = 0;
  }
  /** As a follower: entries stored in an earlier Ready are now known committed (no new writes). */
  learnCommit(entries: Entry[]): void {
    this.#committedOnly.push(...entries);
  }
  /** As a follower: the leader's entry replaces our unstable tail at its index. */
  receive(e: Entry): void {
    this.#entries = this.#entries.filter((x) => x.index < e.index);
    this.#entries.push(e);
    this.last = e.index;
  }
  loseLeadership(): void {
    this.leading = false;
    this.#soft = { role: Role.Follower, leader: 'n2', term: 2 };
    this.softState = this.#soft;
  }
  hasReady(): boolean {
    return (
      !this.#outstanding &&
      (this.#entries.length > 0 ||
        this.#committedOnly.length > 0 ||
        this.#messages.length > 0 ||
        this.#reads.length > 0 ||
        !!this.#snapshot ||
        !!this.#soft)
    );
  }
  ready(): Ready {
    const entries = this.#entries.splice(0);
    const committedEntries = [...this.#committedOnly.splice(0), ...entries];
    const last = committedEntries[committedEntries.length - 1];
    const rd: Ready = {
      group: this.group,
      ...(last ? { hardState: { term: this.term, vote: 'n1', commit: last.index } } : {}),
      entries,
      ...(this.#snapshot ? { snapshot: this.#snapshot } : {}),
      committedEntries,
      messages: this.#messages.splice(0),
      readStates: this.#reads.splice(0),
      ...(this.#soft ? { softState: this.#soft } : {}),
      mustSync: entries.length > 0 || this.#snapshot !== undefined,
    };
    this.#snapshot = undefined;
    this.#soft = undefined;
    this.#outstanding = rd;
    return rd;
  }
  advance(rd: Ready): void {
    expect(rd).toBe(this.#outstanding);
    this.#outstanding = undefined;
    this.log.push(`advance ${this.group}`);
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last) this.applied = last.index;
    if (rd.snapshot) this.applied = rd.snapshot.meta.index;
  }
  snapshotMeta(index: number): SnapshotMeta {
    return { index, term: this.term, conf };
  }
  snapshotTaken(snapshot: Snapshot): void {
    this.snapshots.push(snapshot);
  }
  confState(): ConfState {
    return conf;
  }
  reportUnreachable(): void {}
  status(): RaftStatus {
    return {
      id: this.id,
      term: this.term,
      commit: this.last,
      applied: this.applied,
      lastIndex: this.last,
      soft: this.softState,
      progress: {},
    };
  }
}

/** Storage that logs transaction boundaries and writes. */
function loggingStorage(inner: RaftStorage, log: string[], fail: { next: boolean }): RaftStorage {
  return {
    group(group) {
      const g = inner.group(group);
      const wrapped: GroupStorage = {
        group,
        initialState: () => g.initialState(),
        firstIndex: () => g.firstIndex(),
        lastIndex: () => g.lastIndex(),
        term: (i) => g.term(i),
        entries: (lo, hi, max) => g.entries(lo, hi, max),
        snapshot: () => g.snapshot(),
        append(entries: readonly Entry[]) {
          if (fail.next) throw new Error('disk full');
          log.push(`append ${group} ${entries.map((e) => e.index).join(',')}`);
          g.append(entries);
        },
        setHardState(hs: { term: number; vote: string; commit: number }) {
          log.push(`hardState ${group} ${hs.commit}`);
          g.setHardState(hs);
        },
        applySnapshot(s: Snapshot) {
          log.push(`applySnapshot ${group} ${s.meta.index}`);
          g.applySnapshot(s);
        },
        createSnapshot(s: Snapshot, retain: number) {
          log.push(`createSnapshot ${group} ${s.meta.index}`);
          g.createSnapshot(s, retain);
        },
      };
      return wrapped;
    },
    groups: () => inner.groups(),
    dropGroup: (group) => inner.dropGroup(group),
    transaction(fn, options) {
      log.push(options?.sync === false ? 'begin nosync' : 'begin');
      const result = inner.transaction(fn, options);
      log.push('commit');
      return result;
    },
    close: () => inner.close(),
  };
}

class RecordingSM implements StateMachine<string> {
  applied: Entry[] = [];
  restored: Snapshot[] = [];
  constructor(
    readonly name: string,
    readonly log: string[],
  ) {}
  apply(entries: readonly Entry[]): string[] {
    this.log.push(`apply ${this.name} ${entries.map((e) => e.index).join(',')}`);
    this.applied.push(...entries);
    return entries.map((e) => `${this.name}#${e.index}`);
  }
  appliedIndex(): number {
    return this.applied[this.applied.length - 1]?.index ?? this.restored[this.restored.length - 1]?.meta.index ?? 0;
  }
  snapshot(): Uint8Array {
    return Uint8Array.of(this.applied.length);
  }
  restore(snapshot: Snapshot): void {
    this.log.push(`restore ${this.name} ${snapshot.meta.index}`);
    this.restored.push(snapshot);
  }
}

function setup(options: { snapshotEntries?: number } = {}) {
  const log: string[] = [];
  const fail = { next: false };
  const sent: Message[] = [];
  const nodes = new Map<string, FakeNode>();
  const unknown: Message[] = [];
  const fatal: unknown[] = [];
  let handler: ((m: Message) => void) | undefined;
  const transport: Transport = {
    send(messages) {
      log.push(
        `send ${messages.map((m) => `${m.group}:${m.entries?.map((e) => e.index).join(',') ?? m.type}`).join(' ')}`,
      );
      sent.push(...messages);
    },
    onMessage(h) {
      handler = h;
    },
    close() {},
  };
  const storage = new MemoryStorage();
  const ticker = new ManualTicker();
  const raft = new MultiRaft({
    id: 'n1',
    storage: loggingStorage(storage, log, fail),
    transport,
    ticker,
    snapshotEntries: options.snapshotEntries ?? 0,
    snapshotRetain: 1,
    createNode: (o) => {
      const node = new FakeNode(o, log);
      nodes.set(o.group, node);
      return node;
    },
    onUnknownGroup: (m) => unknown.push(m),
    onFatal: (e) => fatal.push(e),
  });
  const sms = new Map<string, RecordingSM>();
  const add = (group: string) => {
    const sm = new RecordingSM(group, log);
    sms.set(group, sm);
    raft.addGroup(group, { peers: ['n1'], stateMachine: sm });
  };
  return {
    raft,
    log,
    fail,
    sent,
    nodes,
    sms,
    add,
    storage,
    ticker,
    unknown,
    fatal,
    deliver: (m: Message) => handler!(m),
  };
}

const pass = () => new Promise<void>((resolve) => setImmediate(resolve));
const bytes = (s: string) => new TextEncoder().encode(s);

describe('MultiRaft ready loop (fake node)', () => {
  it('persists and applies every group in one transaction, then sends, then advances', async () => {
    const { raft, log, add } = setup();
    add('a');
    add('b');
    await pass();
    log.length = 0;
    const pa = raft.propose('a', bytes('x'));
    const pb1 = raft.propose('b', bytes('y'));
    const pb2 = raft.propose('b', bytes('z'));
    expect(log).toEqual([]); // nothing happens synchronously: the pass is scheduled
    await expect(Promise.all([pa, pb1, pb2])).resolves.toEqual([
      { index: 1, term: 1, result: 'a#1' },
      { index: 1, term: 1, result: 'b#1' },
      { index: 2, term: 1, result: 'b#2' },
    ]);
    expect(log).toEqual([
      'begin',
      'append a 1',
      'hardState a 1',
      'apply a 1',
      'append b 1,2',
      'hardState b 2',
      'apply b 1,2',
      'commit',
      'send a:1 b:1 b:2',
      'advance a',
      'advance b',
    ]);
    expect(raft.passes).toBe(1);
    expect(raft.stats()).toMatchObject({
      passes: 1,
      syncedCommits: 1,
      entriesPersisted: 3,
      entriesApplied: 3,
      messagesSent: 3,
    });
  });

  it('rejects a proposal the node refuses, and one whose index was applied with another term', async () => {
    const { raft, add, nodes } = setup();
    add('a');
    const node = nodes.get('a')!;
    node.leading = false;
    await expect(raft.propose('a', bytes('x'))).rejects.toBeInstanceOf(NotLeaderError);
    node.leading = true;
    const p = raft.propose('a', bytes('x'));
    // Before the pass runs, a new leader (us again, next term) truncated it: a new entry takes the index.
    node.overwrite(2);
    const q = raft.propose('a', bytes('y'));
    await expect(p).rejects.toBeInstanceOf(ProposalDroppedError);
    await expect(q).resolves.toMatchObject({ index: 1, term: 2 });
    await expect(raft.propose('nope', bytes('x'))).rejects.toBeInstanceOf(UnknownGroupError);
  });

  it('rejects a proposal whose index commits with an entry of another leader', async () => {
    const { raft, add, nodes } = setup();
    add('a');
    const p = raft.propose('a', bytes('mine'));
    const node = nodes.get('a')!;
    node.loseLeadership();
    node.receive({ index: 1, term: 2, type: EntryType.Normal, data: bytes('theirs') });
    await expect(p).rejects.toThrow(/replaced by a leader of term 2/);
  });

  it('commits a pass that only applies entries without an fsync', async () => {
    const { raft, add, nodes, log, sms } = setup();
    add('a');
    await pass();
    log.length = 0;
    nodes.get('a')!.learnCommit([{ index: 1, term: 1, type: EntryType.Normal, data: bytes('x') }]);
    raft.tick();
    await pass();
    expect(log).toEqual(['begin nosync', 'hardState a 1', 'apply a 1', 'commit', 'advance a']);
    expect(sms.get('a')!.applied.map((e) => e.index)).toEqual([1]);
    expect(raft.stats().unsyncedCommits).toBe(1);
  });

  it('routes incoming messages by group and ticks every group', async () => {
    const { raft, add, nodes, unknown, ticker, deliver } = setup();
    add('a');
    add('b');
    const m: Message = { type: MessageType.Heartbeat, group: 'b', from: 'n2', to: 'n1', term: 1 };
    deliver(m);
    deliver({ ...m, group: 'c' });
    expect(nodes.get('b')!.stepped).toEqual([m]);
    expect(nodes.get('a')!.stepped).toEqual([]);
    expect(unknown.map((u) => u.group)).toEqual(['c']);
    ticker.tick(3);
    expect(nodes.get('a')!.ticks).toBe(3);
    expect(nodes.get('b')!.ticks).toBe(3);
    raft.close();
    ticker.tick();
    expect(nodes.get('a')!.ticks).toBe(3);
    await pass();
  });

  it('resolves a read once applied reaches its index; rejects reads when leadership is lost', async () => {
    const { raft, add, nodes } = setup();
    add('a');
    await raft.propose('a', bytes('x'));
    await expect(raft.readIndex('a')).resolves.toBe(1);
    const pending = raft.readIndex('a');
    nodes.get('a')!.loseLeadership();
    // The read state and the role change arrive in the same Ready: the answer came first, so it resolves.
    await expect(pending).resolves.toBe(1);
    await expect(raft.readIndex('a')).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('reports role changes to listeners', async () => {
    const { raft, add, nodes, log } = setup();
    add('a');
    const seen: [string, SoftState][] = [];
    const off = raft.onSoftState((g, s) => seen.push([g, s]));
    nodes.get('a')!.loseLeadership();
    raft.tick();
    await pass();
    off();
    expect(seen).toEqual([['a', { role: Role.Follower, leader: 'n2', term: 2 }]]);
    // Nothing in that Ready had to be written at all: no transaction.
    expect(log.filter((l) => l.startsWith('begin'))).toEqual([]);
    expect(raft.stats().syncedCommits + raft.stats().unsyncedCommits).toBe(0);
  });

  it('installs a leader snapshot in the transaction and fails proposals it swallowed as outcome unknown', async () => {
    const { raft, add, nodes, log, sms } = setup();
    add('a');
    const p = raft.propose('a', bytes('x'));
    const node = nodes.get('a')!;
    // The proposal is still unstable when a snapshot beyond it arrives (this fake replaces its queue).
    node.receiveSnapshot({ meta: { index: 5, term: 2, conf }, data: Uint8Array.of(1) });
    await expect(p).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(log.slice(log.indexOf('begin'))).toEqual(expect.arrayContaining(['applySnapshot a 5', 'restore a 5']));
    expect(log.indexOf('applySnapshot a 5')).toBeLessThan(log.indexOf('restore a 5'));
    expect(log.indexOf('restore a 5')).toBeLessThan(log.indexOf('commit'));
    expect(sms.get('a')!.restored).toHaveLength(1);
    expect(raft.status('a').applied).toBe(5);
  });

  it('takes a snapshot and compacts the log every snapshotEntries applied entries', async () => {
    const { raft, add, nodes, storage } = setup({ snapshotEntries: 3 });
    add('a');
    await Promise.all([raft.propose('a', bytes('1')), raft.propose('a', bytes('2'))]);
    expect(nodes.get('a')!.snapshots).toEqual([]);
    await raft.propose('a', bytes('3'));
    const snaps = nodes.get('a')!.snapshots;
    expect(snaps.map((s) => s.meta.index)).toEqual([3]);
    expect([...snaps[0].data]).toEqual([3]);
    const g = storage.group('a');
    expect(g.snapshot().meta.index).toBe(3);
    expect(g.firstIndex()).toBe(3); // retain 1
    await Promise.all([1, 2, 3].map((i) => raft.propose('a', bytes(String(i)))));
    expect(nodes.get('a')!.snapshots.map((s) => s.meta.index)).toEqual([3, 6]);
  });

  it('restores the state machine from the stored snapshot when it is behind it', () => {
    const { raft, storage, log } = setup();
    const g = storage.group('r');
    g.append([1, 2, 3, 4].map((index) => ({ index, term: 1, type: EntryType.Normal, data: bytes('e') })));
    g.setHardState({ term: 1, vote: 'n1', commit: 4 });
    g.createSnapshot({ meta: { index: 3, term: 1, conf }, data: Uint8Array.of(9) }, 0);
    const sm = new RecordingSM('r', log);
    raft.addGroup('r', { stateMachine: sm });
    expect(sm.restored.map((s) => s.meta.index)).toEqual([3]);
    expect(raft.status('r').applied).toBe(3);
  });

  it('stops for good when storage fails: nothing is sent, waiting proposals fail', async () => {
    const { raft, add, fail, sent, fatal } = setup();
    add('a');
    await pass();
    fail.next = true;
    const p = raft.propose('a', bytes('x'));
    await expect(p).rejects.toBeInstanceOf(GroupStoppedError);
    expect(sent).toEqual([]);
    expect(fatal).toHaveLength(1);
    await expect(raft.propose('a', bytes('y'))).rejects.toBeInstanceOf(GroupStoppedError);
  });

  it('a listener may purge a group in the middle of a pass', async () => {
    const { raft, add, nodes, fatal, storage } = setup({ snapshotEntries: 1 });
    add('a');
    add('b');
    raft.onSoftState((group) => {
      if (group === 'a') raft.removeGroup('b', { purge: true });
    });
    nodes.get('a')!.loseLeadership();
    // Applied in the pass that removes the group: the proposal still resolves (it did commit).
    await expect(raft.propose('b', bytes('x'))).resolves.toMatchObject({ index: 1 });
    await pass();
    expect(fatal).toEqual([]);
    expect(storage.groups()).toEqual(['a']);
  });

  it('removeGroup fails waiting proposals; purge deletes the storage', async () => {
    const { raft, add, storage } = setup();
    add('a');
    const p = raft.propose('a', bytes('x'));
    raft.removeGroup('a', { purge: true });
    await expect(p).rejects.toBeInstanceOf(GroupStoppedError);
    expect(storage.groups()).toEqual([]);
    expect(raft.groups()).toEqual([]);
    add('a');
    expect(raft.hasGroup('a')).toBe(true);
  });
});
