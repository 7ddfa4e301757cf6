/**
 * Runs one scenario against a cluster: starts the consumers, replays every producer's
 * log file concurrently, lets the consumers drain, then checks the files they all wrote.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTopic, type Logger } from 'myqueue';
import { checkScenario, type ScenarioCheck } from './check.js';
import { readRecordFile } from './record-file.js';
import { logFileOf, type ScenarioSpec } from './scenario-spec.js';
import { ScenarioConsumer, type ScenarioConsumerResult } from './scenario-consumer.js';
import { readLogLines, runScenarioProducer, type ScenarioProducerResult } from './scenario-producer.js';

/** The assignment's five log files, shipped with this package. */
export const TESTDATA_DIR = new URL('../testdata/logging-queue/', import.meta.url).pathname;

export interface RunScenarioOptions {
  readonly manager: string;
  /** Where producers and consumers write their files (`<outDir>/<scenario>/P1.acks.tsv`, `C1.received.tsv`). */
  readonly outDir: string;
  readonly testdataDir?: string;
  /** Partitions and replicas of each topic (createScenarioTopics). Default 3 and 3. */
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Sends each producer keeps awaiting their acknowledgement. Default 1 (one message at a time, as the original). */
  readonly inFlight?: number;
  /** How long consumers may take to catch up once the producers are done. Default 60000 ms. */
  readonly drainTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface ScenarioRun {
  readonly check: ScenarioCheck;
  readonly producers: readonly ScenarioProducerResult[];
  readonly consumers: readonly ScenarioConsumerResult[];
  readonly elapsedMs: number;
  readonly dir: string;
}

/** Both scenarios may share a cluster: their topics are scenario1.T1, scenario2.T1, ... */
export function scenarioTopic(spec: ScenarioSpec, topic: string): string {
  return `${spec.name}.${topic}`;
}

/**
 * Creates a scenario's topics, one after the other. Run it before runScenario(), and for several scenarios
 * one scenario after the other: the manager on embedded PGlite can hang on concurrent topic creations.
 */
export async function createScenarioTopics(
  spec: ScenarioSpec,
  o: Pick<RunScenarioOptions, 'manager' | 'partitions' | 'replicationFactor' | 'logger'>,
): Promise<void> {
  for (const t of spec.topics)
    await createTopic({
      manager: o.manager,
      topic: scenarioTopic(spec, t),
      partitions: o.partitions ?? 3,
      replicationFactor: o.replicationFactor ?? 3,
      logger: o.logger,
    });
}

/** Runs a scenario whose topics exist (createScenarioTopics) and checks what every client wrote. */
export async function runScenario(spec: ScenarioSpec, o: RunScenarioOptions): Promise<ScenarioRun> {
  const started = Date.now();
  const dir = join(o.outDir, spec.name);
  mkdirSync(dir, { recursive: true });
  const testdata = o.testdataDir ?? TESTDATA_DIR;
  const topicName = (t: string) => scenarioTopic(spec, t);

  const consumers = Object.entries(spec.consumers).map(
    ([name, topics]) =>
      new ScenarioConsumer({
        name,
        manager: o.manager,
        topics: topics.map(topicName),
        outFile: join(dir, `${name}.received.tsv`),
        logger: o.logger,
      }),
  );
  let producers: ScenarioProducerResult[];
  let drained: ScenarioConsumerResult[];
  try {
    producers = await Promise.all(
      Object.entries(spec.producers).map(([name, topics]) =>
        runScenarioProducer({
          name,
          manager: o.manager,
          topics: topics.map(topicName),
          topicOf: (k) => topicName(`T${k}`),
          logFile: join(testdata, logFileOf(name)),
          ackFile: join(dir, `${name}.acks.tsv`),
          inFlight: o.inFlight,
          logger: o.logger,
        }),
      ),
    );
  } finally {
    drained = await Promise.all(consumers.map((c) => c.drain(o.drainTimeoutMs ?? 60_000)));
  }

  const check = checkScenario({
    spec,
    topicName,
    logs: new Map(Object.keys(spec.producers).map((p) => [p, readLogLines(join(testdata, logFileOf(p)))])),
    acked: new Map(Object.keys(spec.producers).map((p) => [p, readRecordFile(join(dir, `${p}.acks.tsv`))])),
    received: new Map(Object.keys(spec.consumers).map((c) => [c, readRecordFile(join(dir, `${c}.received.tsv`))])),
  });
  return { check, producers, consumers: drained, elapsedMs: Date.now() - started, dir };
}
