/** The short summary `pnpm scenarios` prints for each scenario. */
import type { ScenarioRun } from './run-scenario.js';
import type { ScenarioSpec } from './scenario-spec.js';

export function formatRun(spec: ScenarioSpec, run: ScenarioRun): string {
  const { check } = run;
  const lines = [
    `${check.ok ? 'PASS' : 'FAIL'} ${spec.name}: ${spec.description} in ${(run.elapsedMs / 1000).toFixed(1)} s`,
  ];
  for (const p of check.producers)
    lines.push(
      `  ${p.producer}: ${p.acked}/${p.expected} lines acknowledged (${p.skipped} for topics it is not registered for)`,
    );
  for (const c of check.consumers)
    lines.push(
      `  ${c.consumer} ${c.topic}: ${c.received}/${c.expected} received over ${c.partitions} partitions` +
        (c.missing || c.duplicates || c.unexpected || c.outOfOrder || c.mismatched
          ? `; ${c.missing} missing, ${c.duplicates} duplicates, ${c.unexpected} unexpected, ${c.outOfOrder} out of order, ${c.mismatched} mismatched`
          : ', each once, in order'),
    );
  for (const problem of check.problems) lines.push(`  problem: ${problem}`);
  return lines.join('\n');
}
