/**
 * The two scenarios of the original assignment: which producer replays which log file onto which topics,
 * and which consumer reads which topics. Producer Pi replays `producer_<i>.txt`.
 */

export interface ScenarioSpec {
  readonly name: string;
  readonly description: string;
  /** Topic names T<k>, as in the log files' `T-<k>` column. */
  readonly topics: readonly string[];
  /** Producer name (P<i>) -> topics it registers for. */
  readonly producers: Readonly<Record<string, readonly string[]>>;
  /** Consumer name (C<j>) -> topics it registers for. */
  readonly consumers: Readonly<Record<string, readonly string[]>>;
}

/** 2 producers / 2 consumers: T1 and T2 each fed by P1 and P2 and read by C1 and C2. */
export const SCENARIO_1: ScenarioSpec = {
  name: 'scenario1',
  description: '2 producers / 2 consumers (T1, T2: P1 P2 -> C1 C2)',
  topics: ['T1', 'T2'],
  producers: { P1: ['T1', 'T2'], P2: ['T1', 'T2'] },
  consumers: { C1: ['T1', 'T2'], C2: ['T1', 'T2'] },
};

/** 5 producers / 3 consumers: T1: P1 P2 P3 -> C1 C2 C3; T2: P1 P4 P5 -> C1; T3: P1 P2 -> C1 C2 C3. */
export const SCENARIO_2: ScenarioSpec = {
  name: 'scenario2',
  description: '5 producers / 3 consumers (T1: P1 P2 P3 -> C1 C2 C3; T2: P1 P4 P5 -> C1; T3: P1 P2 -> C1 C2 C3)',
  topics: ['T1', 'T2', 'T3'],
  producers: { P1: ['T1', 'T2', 'T3'], P2: ['T1', 'T3'], P3: ['T1'], P4: ['T2'], P5: ['T2'] },
  consumers: { C1: ['T1', 'T2', 'T3'], C2: ['T1', 'T3'], C3: ['T1', 'T3'] },
};

export const SCENARIOS: readonly ScenarioSpec[] = [SCENARIO_1, SCENARIO_2];

/** `P3` -> `producer_3.txt`. */
export function logFileOf(producer: string): string {
  const m = /^P(\d+)$/.exec(producer);
  if (!m) throw new Error(`producer names are P<i>, got ${producer}`);
  return `producer_${m[1]}.txt`;
}
