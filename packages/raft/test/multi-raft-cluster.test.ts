/**
 * Three MultiRafts in one process, on SQLite files, over the in-memory network: real RaftNodes electing,
 * replicating, applying in order, catching up through snapshots, and restarting from their files. The
 * state machine writes its rows in the same database and transaction as the Raft log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../src/errors.js';
import { MultiRaft } from '../src/multi-raft.js';
import type { StateMachine } from '../src/state-machine.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import { ManualTicker } from '../src/ticker.js';
import { MemoryNetwork } from '../src/transport/memory-transport.js';
import type { Entry, GroupId, Message, NodeId, Snapshot } from '../src/types.js';
import { ConfChangeType, EntryType, Role } from '../src/types.js';

/** Rows of (group, index, data) in the broker's database, applied in the Raft transaction. */
class TableStateMachine implements StateMachine<number> {
  readonly #insert: Database.Statement<[string, number, Uint8Array]>;
  readonly #setApplied: Database.Statement<[string, number]>;
  constructor(
    readonly db: Database.Database,
    readonly group: GroupId,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS app_rows (grp TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (grp, idx));
             CREATE TABLE IF NOT EXISTS app_applied (grp TEXT PRIMARY KEY, idx INTEGER NOT NULL)`);
    this.#insert = db.prepare('INSERT INTO app_rows (grp, idx, data) VALUES (?, ?, ?)');
    this.#setApplied = db.prepare(
      'INSERT INTO app_applied (grp, idx) VALUES (?, ?) ON CONFLICT (grp) DO UPDATE SET idx = excluded.idx',
    );
  }
  apply(entries: readonly Entry[]): number[] {
    for (const e of entries)
      if (e.type === EntryType.Normal && e.data.length > 0) this.#insert.run(this.group, e.index, e.data);
    this.#setApplied.run(this.group, entries[entries.length - 1].index);
    return entries.map((e) => e.index * 10);
  }
  appliedIndex(): number {
    return this.db.prepare<[string], number>('SELECT idx FROM app_applied WHERE grp = ?').pluck().get(this.group) ?? 0;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.rows()));
  }
  restores = 0;
  restore(snapshot: Snapshot): void {
    this.restores++;
    this.db.prepare('DELETE FROM app_rows WHERE grp = ?').run(this.group);
    const rows = JSON.parse(new TextDecoder().decode(snapshot.data)) as [number, string][];
    for (const [idx, data] of rows) this.#insert.run(this.group, idx, new TextEncoder().encode(data));
    this.#setApplied.run(this.group, snapshot.meta.index);
  }
  /** [index, payload] of every applied normal entry, in index order. */
  rows(): [number, string][] {
    return this.db
      .prepare<[string], [number, Uint8Array]>('SELECT idx, data FROM app_rows WHERE grp = ? ORDER BY idx')
      .raw()
      .all(this.group)
      .map(([idx, data]) => [idx, new TextDecoder().decode(data)]);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'raft-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GROUPS = ['p0', 'p1'];
const IDS: NodeId[] = ['b1', 'b2', 'b3'];

interface Member {
  id: NodeId;
  raft: MultiRaft;
  storage: SqliteStorage;
  ticker: ManualTicker;
  sms: Map<GroupId, TableStateMachine>;
  onUnknown?: (message: Message) => void;
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

class Cluster {
  readonly network = new MemoryNetwork();
  readonly members = new Map<NodeId, Member>();
  constructor(
    readonly name: string,
    readonly options: { snapshotEntries?: number } = {},
  ) {}

  start(id: NodeId, seed: number, options: { groups?: GroupId[] } = {}): Member {
    const storage = new SqliteStorage(join(dir, `${this.name}-${id}.db`), { synchronous: 'normal' });
    const ticker = new ManualTicker();
    const raft = new MultiRaft({
      id,
      storage,
      transport: this.network.connect(id),
      ticker,
      random: seeded(seed),
      snapshotEntries: this.options.snapshotEntries ?? 0,
      snapshotRetain: 5,
      onUnknownGroup: (m) => member.onUnknown?.(m),
    });
    const sms = new Map<GroupId, TableStateMachine>();
    for (const group of options.groups ?? GROUPS) {
      const sm = new TableStateMachine(storage.database, group);
      sms.set(group, sm);
      raft.addGroup(group, { peers: IDS, stateMachine: sm });
    }
    const member: Member = { id, raft, storage, ticker, sms };
    this.members.set(id, member);
    return member;
  }

  stop(id: NodeId): void {
    const m = this.members.get(id)!;
    m.raft.close();
    m.storage.close();
    this.members.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.members.keys()]) this.stop(id);
  }

  /** One tick everywhere, then let passes and deliveries run. */
  async round(): Promise<void> {
    for (const m of this.members.values()) m.ticker.tick();
    for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async until(what: string, cond: () => boolean, maxRounds = 300): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      if (cond()) return;
      await this.round();
    }
    throw new Error(`${this.name}: not reached within ${maxRounds} rounds: ${what}`);
  }

  leader(group: GroupId): Member | undefined {
    const leaders = [...this.members.values()].filter(
      (m) => m.raft.hasGroup(group) && m.raft.softState(group).role === Role.Leader,
    );
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  async electLeaders(): Promise<void> {
    await this.until('a leader in every group', () => GROUPS.every((g) => this.leader(g) !== undefined));
  }

  /** Proposes from the current leader, retrying across leader changes. */
  async propose(group: GroupId, payload: string): Promise<{ index: number; result: unknown }> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const leader = this.leader(group);
      if (leader) {
        try {
          return await leader.raft.propose(group, new TextEncoder().encode(payload));
        } catch (error) {
          if (!(error instanceof NotLeaderError)) throw error;
        }
      }
      await this.round();
    }
    throw new Error(`no leader accepted ${payload}`);
  }

  async converge(group: GroupId, ids: NodeId[] = [...this.members.keys()]): Promise<void> {
    await this.until(`${group} applied everywhere`, () => {
      const applied = ids.map((id) => this.members.get(id)!.raft.status(group).applied);
      const commit = Math.max(...ids.map((id) => this.members.get(id)!.raft.status(group).commit));
      return applied.every((a) => a === commit);
    });
  }

  rows(id: NodeId, group: GroupId): [number, string][] {
    return this.members.get(id)!.sms.get(group)!.rows();
  }
}

// Generous: these run real elections and SQLite commits on a shared machine.
describe('MultiRaft: three nodes on SQLite', { timeout: 60_000 }, () => {
  const clusters: Cluster[] = [];
  afterEach(() => {
    for (const c of clusters.splice(0)) c.stopAll();
  });

  it('elects, replicates every group, applies in order everywhere, and resolves with the apply result', async () => {
    const c = new Cluster('basic');
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 1));
    await c.electLeaders();
    const leader = c.leader('p0')!;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => leader.raft.propose('p0', new TextEncoder().encode(`m${i}`))),
    );
    const indexes = results.map((r) => r.index);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(indexes).size).toBe(40);
    expect(results.every((r) => r.result === r.index * 10)).toBe(true);
    // Group commit: far fewer passes than proposals.
    expect(leader.raft.passes).toBeLessThan(40 + 60);
    await c.propose('p1', 'other');
    await c.converge('p0');
    await c.converge('p1');
    const expected = results.map((r, i) => [r.index, `m${i}`]);
    for (const id of IDS) {
      expect(c.rows(id, 'p0')).toEqual(expected);
      expect(c.rows(id, 'p1').map(([, d]) => d)).toEqual(['other']);
    }
  });

  it('a lagging follower catches up through a snapshot after the log was compacted', async () => {
    const c = new Cluster('snap', { snapshotEntries: 10 });
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 11));
    await c.electLeaders();
    const lagger = IDS.find((id) => c.leader('p0')!.id !== id)!;
    c.network.isolate(lagger);
    const others = IDS.filter((id) => id !== lagger);
    for (let i = 0; i < 30; i++) await c.propose('p0', `s${i}`);
    await c.converge('p0', others);
    const leader = c.leader('p0')!;
    const g = leader.storage.group('p0');
    expect(g.snapshot().meta.index).toBeGreaterThanOrEqual(20);
    expect(g.firstIndex()).toBeGreaterThan(c.members.get(lagger)!.raft.status('p0').applied + 1);
    c.network.heal();
    await c.converge('p0');
    const want = c.rows(leader.id, 'p0');
    expect(want).toHaveLength(30);
    expect(c.rows(lagger, 'p0')).toEqual(want);
    expect(c.members.get(lagger)!.sms.get('p0')!.restores).toBe(1);
  });

  it('restarts from its SQLite files: nothing applied twice, nothing lost, and it goes on', async () => {
    const c = new Cluster('restart');
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 21));
    await c.electLeaders();
    for (let i = 0; i < 15; i++) await c.propose('p0', `before${i}`);
    await c.converge('p0');
    const before = c.rows('b1', 'p0');
    const applied = IDS.map((id) => c.members.get(id)!.raft.status('p0').applied);
    c.stopAll();

    IDS.forEach((id, i) => c.start(id, i + 31));
    for (const id of IDS) {
      // The state machine's applied index is durable with its rows: the node starts there, no replay.
      expect(c.members.get(id)!.raft.status('p0').applied).toBe(applied[IDS.indexOf(id)]);
      expect(c.rows(id, 'p0')).toEqual(before);
    }
    await c.electLeaders();
    for (let i = 0; i < 5; i++) await c.propose('p0', `after${i}`);
    await c.converge('p0');
    const rows = c.rows('b1', 'p0').map(([, d]) => d);
    expect(rows).toEqual([...before.map(([, d]) => d), 'after0', 'after1', 'after2', 'after3', 'after4']);
    for (const id of IDS) expect(c.rows(id, 'p0')).toEqual(c.rows('b1', 'p0'));
  });

  it('adds a replica on a fourth node (learner, then voter) and removes one, through the driver', async () => {
    const c = new Cluster('members', { snapshotEntries: 10 });
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 51));
    await c.electLeaders();
    for (let i = 0; i < 25; i++) await c.propose('p0', `r${i}`);
    // b4 hosts no group yet: the first message for p0 makes it join (the broker's reassignment path).
    const b4 = c.start('b4', 99, { groups: [] });
    const joined: string[] = [];
    b4.onUnknown = (m) => {
      if (m.group !== 'p0' || b4.raft.hasGroup('p0')) return;
      joined.push(m.group);
      const sm = new TableStateMachine(b4.storage.database, 'p0');
      b4.sms.set('p0', sm);
      b4.raft.addGroup('p0', { join: true, stateMachine: sm });
      b4.raft.step(m);
    };
    const leader = c.leader('p0')!;
    await leader.raft.proposeConfChange('p0', { type: ConfChangeType.AddLearner, node: 'b4' });
    await c.until('b4 caught up', () => b4.raft.hasGroup('p0') && c.rows('b4', 'p0').length === 25);
    expect(joined).toEqual(['p0']);
    expect(b4.sms.get('p0')!.restores).toBe(1); // the log was compacted: it started from a snapshot
    await c.leader('p0')!.raft.proposeConfChange('p0', { type: ConfChangeType.AddVoter, node: 'b4' });
    const removed = IDS.find((id) => id !== c.leader('p0')!.id)!;
    await c.leader('p0')!.raft.proposeConfChange('p0', { type: ConfChangeType.RemoveNode, node: removed });
    await c.until('conf applied on the leader', () => {
      const conf = c.leader('p0')?.raft.status('p0').conf;
      return !!conf && conf.voters.includes('b4') && !conf.voters.includes(removed);
    });
    c.stop(removed);
    await c.propose('p0', 'after-change');
    await c.converge('p0');
    expect(
      c
        .rows('b4', 'p0')
        .map(([, d]) => d)
        .slice(-2),
    ).toEqual(['r24', 'after-change']);
  });

  it('keeps every acknowledged write through partitions and restarts (seeded)', async () => {
    const c = new Cluster('chaos', { snapshotEntries: 15 });
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 61));
    await c.electLeaders();
    const random = seeded(2024);
    const pick = () => IDS[Math.floor(random() * IDS.length)];
    const acked = new Set<string>();
    const proposed = new Set<string>();
    let restarts = 0;
    for (let step = 0; step < 80; step++) {
      const r = random();
      if (r < 0.1) c.network.isolate(pick());
      else if (r < 0.25) c.network.heal();
      else if (r < 0.33) {
        const id = pick();
        if (c.members.has(id)) c.stop(id);
        c.start(id, 100 + step);
        restarts++;
      }
      const leader = c.leader('p0');
      for (let k = 0; leader && k < 3; k++) {
        const payload = `w${step}.${k}`;
        proposed.add(payload);
        leader.raft.propose('p0', new TextEncoder().encode(payload)).then(
          () => acked.add(payload),
          () => {}, // not acknowledged: it may or may not be in the log
        );
      }
      for (let i = 0; i < 3; i++) await c.round();
    }
    c.network.heal();
    await c.electLeaders();
    await c.propose('p0', 'end');
    await c.converge('p0');
    const rows = c.rows('b1', 'p0').map(([, d]) => d);
    for (const id of IDS) expect(c.rows(id, 'p0')).toEqual(c.rows('b1', 'p0'));
    expect(restarts).toBeGreaterThan(3);
    expect(acked.size).toBeGreaterThan(20);
    for (const payload of acked) expect(rows).toContain(payload);
    expect(new Set(rows).size).toBe(rows.length); // nothing applied twice
    for (const payload of rows) expect(payload === 'end' || proposed.has(payload)).toBe(true);
  });

  it('moves leadership on request and reports it to listeners', async () => {
    const c = new Cluster('transfer');
    clusters.push(c);
    IDS.forEach((id, i) => c.start(id, i + 41));
    await c.electLeaders();
    await c.propose('p0', 'x');
    await c.converge('p0');
    const from = c.leader('p0')!;
    const to = IDS.find((id) => id !== from.id)!;
    const seen: string[] = [];
    c.members.get(to)!.raft.onSoftState((group, s) => seen.push(`${group}:${s.role}`));
    from.raft.transferLeadership('p0', to);
    await c.until('leadership moved', () => c.leader('p0')?.id === to);
    expect(seen).toContain('p0:leader');
    await expect(c.members.get(to)!.raft.readIndex('p0')).resolves.toBeGreaterThanOrEqual(1);
    await expect(from.raft.readIndex('p0')).rejects.toBeInstanceOf(NotLeaderError);
  });
});
