/**
 * The checker: pure logic over a run's history and the final log of every replica of every partition.
 * It never talks to the cluster, so it is tested with hand-made histories.
 *
 * Safety violations (any of them fails the run):
 * - lost: a send was acknowledged but its message is in no replica's log;
 * - wrong-offset: a send was acknowledged at an offset that holds another message;
 * - duplicate: one message stored at two offsets (the idempotent producer must prevent it);
 * - divergent: two replicas hold different messages at one offset;
 * - gap: a replica's offsets do not run 0, 1, 2, ... without a hole or a repeat;
 * - consumer-skip / consumer-back: a consumer's reads of a partition jumped ahead or went back;
 * - bad-read: a consumer read a message at an offset where the final log holds another one (or none);
 * - failed-present: a send the client reported as certainly not applied is in the log;
 * - phantom: the log holds a message nobody sent.
 * Counted but allowed: sends with an unknown outcome (`info`, or no completion) whose message appeared.
 */
import type { Op, ReadValue, SendValue } from './history.js';

export interface StoredRecord {
  readonly offset: number;
  readonly value: string;
}

/** One partition's applied records on each replica, read after the run healed. */
export interface PartitionLogs {
  readonly partition: number;
  readonly replicas: Readonly<Record<string, readonly StoredRecord[]>>;
}

export type ViolationKind =
  | 'lost'
  | 'wrong-offset'
  | 'duplicate'
  | 'divergent'
  | 'gap'
  | 'consumer-skip'
  | 'consumer-back'
  | 'bad-read'
  | 'failed-present'
  | 'phantom'
  | 'reorder';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'lost',
  'wrong-offset',
  'duplicate',
  'divergent',
  'gap',
  'consumer-skip',
  'consumer-back',
  'bad-read',
  'failed-present',
  'phantom',
  'reorder',
];

export interface Violation {
  readonly kind: ViolationKind;
  readonly partition: number;
  readonly message: string;
}

export interface CheckCounts {
  /** Sends invoked, and how they completed. */
  readonly sends: number;
  readonly acked: number;
  readonly failed: number;
  /** Sends whose outcome is unknown (`info`, or no completion in the history). */
  readonly unknown: number;
  /** Unknown-outcome sends whose message is in the log (allowed). */
  readonly unknownPresent: number;
  readonly reads: number;
  /** Records in the merged log of every partition. */
  readonly records: number;
  /** Replicas shorter than their partition's longest (not a safety violation, but a drain that did not finish). */
  readonly laggingReplicas: number;
  /** Nemesis operations (faults and heals). */
  readonly faults: number;
}

export interface CheckReport {
  readonly valid: boolean;
  readonly counts: CheckCounts;
  /** Violations per kind (every kind present, 0 when none). */
  readonly violationCounts: Readonly<Record<ViolationKind, number>>;
  /** The first few violations of each kind, to start an investigation. */
  readonly violations: readonly Violation[];
}

/** Examples kept per violation kind. */
const EXAMPLES_PER_KIND = 20;

class Findings {
  readonly counts = Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  readonly examples: Violation[] = [];

  add(kind: ViolationKind, partition: number, message: string): void {
    if (this.counts[kind]++ < EXAMPLES_PER_KIND) this.examples.push({ kind, partition, message });
  }
}

interface SendOutcome {
  readonly process: string;
  /** Position of the invoke in the history: the order the process sent in. */
  readonly order: number;
  partition: number;
  status: 'pending' | 'ok' | 'fail' | 'info';
  offset?: number;
}

/** Where each message is in the merged logs: partition -> offset -> id, and id -> places. */
interface MergedLogs {
  readonly byOffset: Map<number, Map<number, string>>;
  readonly places: Map<string, { partition: number; offset: number }[]>;
  readonly lagging: number;
}

function mergeReplicas(logs: readonly PartitionLogs[], findings: Findings): MergedLogs {
  const byOffset = new Map<number, Map<number, string>>();
  const places = new Map<string, { partition: number; offset: number }[]>();
  let lagging = 0;
  for (const { partition, replicas } of logs) {
    const merged = new Map<number, string>();
    const holder = new Map<number, string>();
    let longest = 0;
    for (const [replica, records] of Object.entries(replicas)) {
      let expected = 0;
      for (const r of records) {
        if (r.offset !== expected)
          findings.add('gap', partition, `replica ${replica}: offset ${r.offset} where ${expected} was expected`);
        expected = r.offset + 1;
        const seen = merged.get(r.offset);
        if (seen === undefined) {
          merged.set(r.offset, r.value);
          holder.set(r.offset, replica);
        } else if (seen !== r.value)
          findings.add(
            'divergent',
            partition,
            `offset ${r.offset}: ${holder.get(r.offset)} has ${seen}, ${replica} has ${r.value}`,
          );
      }
      longest = Math.max(longest, records.length);
    }
    for (const records of Object.values(replicas)) if (records.length < longest) lagging++;
    byOffset.set(partition, merged);
    for (const [offset, id] of merged) {
      const list = places.get(id) ?? [];
      list.push({ partition, offset });
      places.set(id, list);
    }
  }
  return { byOffset, places, lagging };
}

/** Completes each send with its last outcome (a send's id is unique in the run). */
function sendOutcomes(history: readonly Op[]): Map<string, SendOutcome> {
  const sends = new Map<string, SendOutcome>();
  history.forEach((op, order) => {
    if (op.f !== 'send') return;
    const v = op.value as SendValue;
    if (op.type === 'invoke') {
      sends.set(v.id, { process: op.process, order, partition: v.partition, status: 'pending' });
      return;
    }
    const s = sends.get(v.id) ?? { process: op.process, order, partition: v.partition, status: 'pending' };
    s.status = op.type;
    if (op.type === 'ok') s.offset = v.offset;
    sends.set(v.id, s);
  });
  return sends;
}

/** One producer's acknowledged messages in one partition must be stored in the order it sent them. */
function checkOrder(sends: Map<string, SendOutcome>, findings: Findings): void {
  const lanes = new Map<string, [string, SendOutcome][]>();
  for (const [id, s] of sends) {
    if (s.status !== 'ok' || s.offset === undefined) continue;
    const key = `${s.process}\u0000${s.partition}`;
    const lane = lanes.get(key) ?? [];
    lane.push([id, s]);
    lanes.set(key, lane);
  }
  for (const lane of lanes.values()) {
    lane.sort((a, b) => a[1].order - b[1].order);
    for (let i = 1; i < lane.length; i++) {
      const [prevId, prev] = lane[i - 1];
      const [id, s] = lane[i];
      if (s.offset! < prev.offset!)
        findings.add(
          'reorder',
          s.partition,
          `${s.process} sent ${prevId} before ${id}, but they are at offsets ${prev.offset} and ${s.offset}`,
        );
    }
  }
}

function checkReads(history: readonly Op[], merged: MergedLogs, findings: Findings): number {
  // Per consumer and partition: the offset the next read must have. Consumers read from the start.
  const next = new Map<string, number>();
  let reads = 0;
  for (const op of history) {
    if (op.f !== 'read' || op.type !== 'ok') continue;
    reads++;
    const v = op.value as ReadValue;
    const key = `${op.process}\u0000${v.partition}`;
    const expected = next.get(key) ?? 0;
    if (v.offset > expected)
      findings.add('consumer-skip', v.partition, `${op.process} read offset ${v.offset} after ${expected - 1}`);
    else if (v.offset < expected)
      findings.add('consumer-back', v.partition, `${op.process} read offset ${v.offset} after ${expected - 1}`);
    next.set(key, Math.max(expected, v.offset + 1));
    const stored = merged.byOffset.get(v.partition)?.get(v.offset);
    if (stored !== v.id)
      findings.add(
        'bad-read',
        v.partition,
        `${op.process} read ${v.id} at offset ${v.offset}; the log has ${stored ?? 'nothing'} there`,
      );
  }
  return reads;
}

/** Checks a history against the final logs. */
export function check(history: readonly Op[], logs: readonly PartitionLogs[]): CheckReport {
  const findings = new Findings();
  const merged = mergeReplicas(logs, findings);
  const sends = sendOutcomes(history);

  let acked = 0;
  let failed = 0;
  let unknown = 0;
  let unknownPresent = 0;
  for (const [id, s] of sends) {
    const places = merged.places.get(id) ?? [];
    if (s.status === 'ok') {
      acked++;
      if (places.length === 0) findings.add('lost', s.partition, `${id} acknowledged at offset ${s.offset} is gone`);
      else if (!places.some((p) => p.partition === s.partition && p.offset === s.offset)) {
        const at = places.map((p) => `${p.partition}/${p.offset}`).join(', ');
        findings.add(
          'wrong-offset',
          s.partition,
          `${id} acknowledged at ${s.partition}/${s.offset} but stored at ${at}`,
        );
      }
    } else if (s.status === 'fail') {
      failed++;
      if (places.length > 0) findings.add('failed-present', s.partition, `${id} failed for certain but is stored`);
    } else {
      unknown++;
      if (places.length > 0) unknownPresent++;
    }
  }

  let records = 0;
  for (const [partition, offsets] of merged.byOffset) {
    records += offsets.size;
    for (const [offset, id] of offsets) {
      const places = merged.places.get(id)!;
      // Report a duplicated message once, at its second place.
      if (places.length > 1 && places[1].partition === partition && places[1].offset === offset)
        findings.add(
          'duplicate',
          partition,
          `${id} stored at ${places.map((p) => `${p.partition}/${p.offset}`).join(', ')}`,
        );
      if (!sends.has(id)) findings.add('phantom', partition, `offset ${offset} holds ${id}, which nobody sent`);
    }
  }

  checkOrder(sends, findings);
  const reads = checkReads(history, merged, findings);
  const faults = history.filter((op) => op.process === 'nemesis' && op.type !== 'invoke').length;
  const total = VIOLATION_KINDS.reduce((n, k) => n + findings.counts[k], 0);
  return {
    valid: total === 0,
    counts: {
      sends: sends.size,
      acked,
      failed,
      unknown,
      unknownPresent,
      reads,
      records,
      laggingReplicas: merged.lagging,
      faults,
    },
    violationCounts: findings.counts,
    violations: findings.examples,
  };
}
