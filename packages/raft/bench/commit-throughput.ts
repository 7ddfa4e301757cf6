/**
 * How many entries per second a 3-node in-process cluster commits (and applies on the leader), with
 * MultiRaft, the real RaftNode and the in-memory network (messages encoded with the wire codec):
 *   - on MemoryStorage (no disk: the core and driver alone),
 *   - on SqliteStorage with synchronous=FULL (an fsync per processing pass, shared by every group),
 *   - the same with many groups at once (group commit),
 * plus raw SqliteStorage append rates by batch size. Each run is bounded by --seconds.
 *
 *   pnpm --filter @myqueue/raft bench [--seconds 3] [--payload 128] [--window 1024] [--groups 16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry, RaftStorage, Snapshot, StateMachine } from '@myqueue/raft';
import { EntryType, intervalTicker, MemoryNetwork, MemoryStorage, MultiRaft, Role, SqliteStorage } from '@myqueue/raft';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    payload: { type: 'string', default: '128' },
    window: { type: 'string', default: '1024' },
    groups: { type: 'string', default: '16' },
  },
});
const SECONDS = Number(values.seconds);
const PAYLOAD = Number(values.payload);
const WINDOW = Number(values.window);
const GROUPS = Number(values.groups);
const IDS = ['n1', 'n2', 'n3'];

/** Counts applied entries; the benchmark's stand-in for a partition. */
class CountingStateMachine implements StateMachine<null> {
  applied = 0;
  count = 0;
  apply(entries: readonly Entry[]): null[] {
    for (const e of entries) if (e.type === EntryType.Normal && e.data.length > 0) this.count++;
    this.applied = entries[entries.length - 1].index;
    return entries.map(() => null);
  }
  appliedIndex(): number {
    return this.applied;
  }
  snapshot(): Uint8Array {
    return new Uint8Array(8);
  }
  restore(snapshot: Snapshot): void {
    this.applied = snapshot.meta.index;
  }
}

interface Result {
  entries: number;
  seconds: number;
  passes: number;
}

async function cluster(name: string, groups: number, makeStorage: (id: string) => RaftStorage): Promise<Result> {
  const network = new MemoryNetwork();
  const nodes = IDS.map((id, i) => {
    const storage = makeStorage(id);
    let seed = i + 1;
    const raft = new MultiRaft({
      id,
      storage,
      transport: network.connect(id),
      ticker: intervalTicker(50),
      random: () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296,
      snapshotEntries: 50_000,
      snapshotRetain: 5_000,
    });
    for (let g = 0; g < groups; g++) raft.addGroup(`g${g}`, { peers: IDS, stateMachine: new CountingStateMachine() });
    return { raft, storage };
  });
  // Let every group elect a leader, then make n1 lead all of them so one node's numbers are the cluster's.
  const leaderOf = (g: number) => nodes.find((n) => n.raft.softState(`g${g}`).role === Role.Leader);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const all = [...Array(groups).keys()].every((g) => leaderOf(g) !== undefined);
    if (all) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let g = 0; g < groups; g++) {
    const l = leaderOf(g);
    if (l && l !== nodes[0]) l.raft.transferLeadership(`g${g}`, 'n1');
  }
  while (Date.now() < deadline && ![...Array(groups).keys()].every((g) => leaderOf(g) === nodes[0])) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const leader = nodes[0].raft;
  const payload = new Uint8Array(PAYLOAD).fill(7);
  let committed = 0;
  let stop = false;
  /** Propose-to-applied latency of every 16th proposal, ms. */
  const latencies: number[] = [];
  const passes0 = leader.passes;
  const start = performance.now();
  const perGroup = Math.max(1, Math.floor(WINDOW / groups));
  const loops: Promise<void>[] = [];
  for (let g = 0; g < groups; g++) {
    for (let w = 0; w < perGroup; w++) {
      loops.push(
        (async () => {
          while (!stop) {
            const t = performance.now();
            await leader.propose(`g${g}`, payload);
            if (committed++ % 16 === 0) latencies.push(performance.now() - t);
          }
        })(),
      );
    }
  }
  const timer = setTimeout(() => (stop = true), SECONDS * 1000);
  await Promise.all(loops);
  clearTimeout(timer);
  const seconds = (performance.now() - start) / 1000;
  const passes = leader.passes - passes0;
  for (const n of nodes) {
    n.raft.close();
    n.storage.close();
  }
  console.log(
    `${name.padEnd(34)} ${String(Math.round(committed / seconds)).padStart(9)} entries/s  ` +
      `(${committed} in ${seconds.toFixed(2)} s, ${Math.round(passes / seconds)} leader passes/s, ` +
      `${(committed / Math.max(1, passes)).toFixed(0)} entries/pass, latency p50 ${percentile(latencies, 0.5)} ms p99 ${percentile(latencies, 0.99)} ms)`,
  );
  return { entries: committed, seconds, passes };
}

function percentile(values: number[], p: number): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(0);
}

function sqliteAppends(dir: string, batch: number, synchronous: 'full' | 'off'): void {
  const storage = new SqliteStorage(join(dir, `append-${batch}-${synchronous}.db`), { synchronous });
  const g = storage.group('g');
  const data = new Uint8Array(PAYLOAD).fill(1);
  let index = 0;
  let transactions = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++) entries.push({ index: ++index, term: 1, type: EntryType.Normal, data });
    storage.transaction(() => {
      g.append(entries);
      g.setHardState({ term: 1, vote: 'n1', commit: index });
    });
    transactions++;
  }
  const seconds = (performance.now() - start) / 1000;
  storage.close();
  console.log(
    `${`sqlite append, batch ${batch}, ${synchronous.toUpperCase()}`.padEnd(34)} ${String(Math.round(index / seconds)).padStart(9)} entries/s  ` +
      `(${Math.round(transactions / seconds)} transactions/s)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
try {
  console.log(`payload ${PAYLOAD} B, ${WINDOW} proposals in flight, ${SECONDS} s per run, node ${process.version}`);
  for (const batch of [1, 16, 256]) sqliteAppends(dir, batch, 'full');
  sqliteAppends(dir, 256, 'off');
  await cluster('3 nodes, memory storage, 1 group', 1, () => new MemoryStorage());
  await cluster('3 nodes, sqlite FULL, 1 group', 1, (id) => new SqliteStorage(join(dir, `c1-${id}.db`)));
  await cluster(`3 nodes, memory storage, ${GROUPS} groups`, GROUPS, () => new MemoryStorage());
  await cluster(`3 nodes, sqlite FULL, ${GROUPS} groups`, GROUPS, (id) => new SqliteStorage(join(dir, `cN-${id}.db`)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
