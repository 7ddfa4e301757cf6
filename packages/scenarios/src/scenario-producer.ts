/**
 * A scenario producer: replays a log file through the classic MyProducer, line by line in file order,
 * sending each line to the topic its `T-<k>` column names when the producer is registered for it (like
 * the original assignment's producers, which checked canSend first), and logging every acknowledgement.
 */
import { readFileSync } from 'node:fs';
import { MyProducer, type Logger } from 'myqueue';
import { parseLogLine } from './log-line.js';
import { tagMessage } from './message-tag.js';
import { RecordWriter } from './record-file.js';

export interface ScenarioProducerOptions {
  readonly name: string;
  readonly manager: string;
  /** Cluster topics the producer registers for. */
  readonly topics: readonly string[];
  /** Scenario topic of a log line's `T-<k>` (k) -> cluster topic. */
  readonly topicOf: (k: number) => string;
  readonly logFile: string;
  /** Where acknowledgements are logged (record file format). */
  readonly ackFile: string;
  /** Sends awaiting their acknowledgement at once; the classic interface keeps their order. Default 1. */
  readonly inFlight?: number;
  readonly logger?: Logger;
}

export interface ScenarioProducerResult {
  readonly name: string;
  readonly lines: number;
  readonly sent: number;
  /** Lines for topics this producer is not registered for. */
  readonly skipped: number;
}

export function readLogLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
}

export async function runScenarioProducer(o: ScenarioProducerOptions): Promise<ScenarioProducerResult> {
  const lines = readLogLines(o.logFile);
  const producer = new MyProducer({ topics: o.topics, manager: o.manager, logger: o.logger });
  const acks = new RecordWriter(o.ackFile);
  const window = new Set<Promise<void>>();
  let sent = 0;
  let skipped = 0;
  try {
    await producer.ready();
    for (const [i, line] of lines.entries()) {
      const topic = o.topicOf(parseLogLine(line, `${o.logFile}:${i + 1}`).topic);
      if (!producer.canSend(topic)) {
        skipped++;
        continue;
      }
      const message = tagMessage(o.name, i + 1, line);
      const p = producer.send(topic, message).then(async (meta) => {
        sent++;
        await acks.write({ topic, partition: meta.partition, offset: meta.offset, message });
      });
      window.add(p);
      void p.finally(() => window.delete(p)).catch(() => undefined);
      if (window.size >= (o.inFlight ?? 1)) await Promise.race(window);
    }
    await Promise.all(window);
  } finally {
    await Promise.allSettled(window);
    await producer.stop();
    await acks.close();
  }
  return { name: o.name, lines: lines.length, sent, skipped };
}
