/** The original logging-queue scenarios, runnable against any myqueue cluster: see docs/client.md. */
export { SCENARIO_1, SCENARIO_2, SCENARIOS, logFileOf, type ScenarioSpec } from './scenario-spec.js';
export { parseLogLine, formatLogLine, type LogLine } from './log-line.js';
export { tagMessage, parseTag, type TaggedMessage } from './message-tag.js';
export { formatRecord, parseRecord, readRecordFile, RecordWriter, type RecordLine } from './record-file.js';
export {
  checkScenario,
  type ScenarioData,
  type ScenarioCheck,
  type ProducerCheck,
  type ConsumerTopicCheck,
} from './check.js';
export {
  runScenario,
  createScenarioTopics,
  scenarioTopic,
  TESTDATA_DIR,
  type RunScenarioOptions,
  type ScenarioRun,
} from './run-scenario.js';
export { formatRun } from './format-report.js';
