/**
 * The scenario check. What should have happened follows from the log files and the scenario alone: every
 * line of a producer's file whose topic the producer is registered for is sent once; every consumer
 * registered for a topic receives every message sent to it (each consumer has its own position and reads
 * the whole topic), exactly once, and within each partition in offset order and in each producer's file
 * order. The producers' acknowledgements (where each message was stored) must agree with what every
 * consumer found at that offset.
 */
import { parseLogLine } from './log-line.js';
import { parseTag, tagMessage, tagOf } from './message-tag.js';
import type { RecordLine } from './record-file.js';
import type { ScenarioSpec } from './scenario-spec.js';

export interface ScenarioData {
  readonly spec: ScenarioSpec;
  /** The cluster topic of a scenario topic (T1 -> scenario1.T1). */
  readonly topicName: (topic: string) => string;
  /** Producer -> the lines of its log file. */
  readonly logs: ReadonlyMap<string, readonly string[]>;
  /** Producer -> the records it got acknowledged, in order. */
  readonly acked: ReadonlyMap<string, readonly RecordLine[]>;
  /** Consumer -> the records it received, in order. */
  readonly received: ReadonlyMap<string, readonly RecordLine[]>;
}

export interface ProducerCheck {
  readonly producer: string;
  /** Lines in its log file, those for its topics (to send) and those for other topics (skipped). */
  readonly lines: number;
  readonly expected: number;
  readonly skipped: number;
  readonly acked: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly unexpected: number;
}

export interface ConsumerTopicCheck {
  readonly consumer: string;
  readonly topic: string;
  readonly partitions: number;
  readonly expected: number;
  readonly received: number;
  readonly missing: number;
  /** Received more than once (same offset or same message). */
  readonly duplicates: number;
  /** Not a message sent to this topic. */
  readonly unexpected: number;
  /** An offset not after the previous one of its partition, or a line not after the previous one of its producer there. */
  readonly outOfOrder: number;
  /** A different message than the producer's acknowledgement says is stored at that offset. */
  readonly mismatched: number;
}

export interface ScenarioCheck {
  readonly scenario: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly producers: readonly ProducerCheck[];
  readonly consumers: readonly ConsumerTopicCheck[];
}

const at = (r: RecordLine) => `${r.topic}/${r.partition}/${r.offset}`;

export function checkScenario(data: ScenarioData): ScenarioCheck {
  const { spec, topicName } = data;
  const problems: string[] = [];
  // Scenario topic -> tag -> message, in file order per producer.
  const expectedByTopic = new Map<string, Map<string, string>>(spec.topics.map((t) => [t, new Map()]));
  const producers: ProducerCheck[] = [];
  const storedAt = new Map<string, string>();

  for (const [producer, topics] of Object.entries(spec.producers)) {
    const lines = data.logs.get(producer) ?? [];
    if (lines.length === 0) problems.push(`${producer}: no log lines`);
    const expected = new Map<string, string>(); // tag -> cluster topic
    const messages = new Map<string, string>(); // tag -> message
    lines.forEach((line, i) => {
      const topic = `T${parseLogLine(line, `${producer} line ${i + 1}`).topic}`;
      if (!topics.includes(topic)) return;
      const message = tagMessage(producer, i + 1, line);
      const tag = `${producer}:${i + 1}`;
      expected.set(tag, topicName(topic));
      messages.set(tag, message);
      expectedByTopic.get(topic)?.set(tag, message);
    });
    const seen = new Set<string>();
    let duplicates = 0;
    let unexpected = 0;
    for (const r of data.acked.get(producer) ?? []) {
      const tag = tagOf(r.message);
      if (tag === undefined || expected.get(tag) !== r.topic || messages.get(tag) !== r.message) unexpected++;
      else if (seen.has(tag)) duplicates++;
      else seen.add(tag);
      const other = storedAt.get(at(r));
      if (other !== undefined && other !== r.message)
        problems.push(`${at(r)} acknowledged for two messages: ${tagOf(other)} and ${tag}`);
      storedAt.set(at(r), r.message);
    }
    const check: ProducerCheck = {
      producer,
      lines: lines.length,
      expected: expected.size,
      skipped: lines.length - expected.size,
      acked: data.acked.get(producer)?.length ?? 0,
      missing: expected.size - seen.size,
      duplicates,
      unexpected,
    };
    if (check.missing || check.duplicates || check.unexpected)
      problems.push(
        `${producer}: ${check.missing} not acknowledged, ${check.duplicates} acknowledged twice, ${check.unexpected} unexpected`,
      );
    producers.push(check);
  }

  const consumers: ConsumerTopicCheck[] = [];
  for (const [consumer, topics] of Object.entries(spec.consumers)) {
    const records = data.received.get(consumer) ?? [];
    const clusterTopics = new Set(topics.map(topicName));
    const foreign = records.filter((r) => !clusterTopics.has(r.topic)).length;
    if (foreign > 0) problems.push(`${consumer}: ${foreign} records of topics it is not registered for`);
    for (const topic of topics) {
      const check = checkConsumerTopic(
        consumer,
        topic,
        records.filter((r) => r.topic === topicName(topic)),
        expectedByTopic.get(topic) ?? new Map(),
        storedAt,
      );
      if (check.missing || check.duplicates || check.unexpected || check.outOfOrder || check.mismatched)
        problems.push(
          `${consumer}/${topic}: ${check.received} of ${check.expected} received; ${check.missing} missing, ` +
            `${check.duplicates} duplicates, ${check.unexpected} unexpected, ${check.outOfOrder} out of order, ` +
            `${check.mismatched} differ from the acknowledged offset`,
        );
      consumers.push(check);
    }
  }
  return { scenario: spec.name, ok: problems.length === 0, problems, producers, consumers };
}

function checkConsumerTopic(
  consumer: string,
  topic: string,
  records: readonly RecordLine[],
  expected: ReadonlyMap<string, string>,
  storedAt: ReadonlyMap<string, string>,
): ConsumerTopicCheck {
  const seenOffsets = new Set<string>();
  const seenTags = new Set<string>();
  const lastOffset = new Map<number, number>();
  const lastLine = new Map<string, number>(); // partition/producer -> line number
  let duplicates = 0;
  let unexpected = 0;
  let outOfOrder = 0;
  let mismatched = 0;
  for (const r of records) {
    const tag = parseTag(r.message);
    const id = tag && `${tag.producer}:${tag.lineNo}`;
    if (seenOffsets.has(at(r)) || (id !== undefined && seenTags.has(id))) {
      duplicates++;
      continue;
    }
    seenOffsets.add(at(r));
    if (id === undefined || expected.get(id) !== r.message) unexpected++;
    else seenTags.add(id);
    const acked = storedAt.get(at(r));
    if (acked !== undefined && acked !== r.message) mismatched++;
    if (r.offset <= (lastOffset.get(r.partition) ?? -1)) outOfOrder++;
    lastOffset.set(r.partition, r.offset);
    if (tag) {
      const key = `${r.partition}/${tag.producer}`;
      if (tag.lineNo <= (lastLine.get(key) ?? 0)) outOfOrder++;
      lastLine.set(key, tag.lineNo);
    }
  }
  return {
    consumer,
    topic,
    partitions: lastOffset.size,
    expected: expected.size,
    received: records.length,
    missing: expected.size - seenTags.size,
    duplicates,
    unexpected,
    outOfOrder,
    mismatched,
  };
}
