#!/usr/bin/env node
/**
 * `pnpm scenarios`: starts a fresh local cluster (manager + 3 brokers, ports from the OS), runs both
 * original scenarios side by side through the client library, checks them, stops the cluster. Exits 0 only if every
 * check passed.
 *
 *   --manager <url>     use a running cluster instead of starting one
 *   --scenario <name>   run only scenario1 or scenario2
 *   --out <dir>         keep the producers' and consumers' files there (default: a temp dir, kept on failure)
 *   --in-flight <n>     sends each producer keeps awaiting their ack (default 1, as the original)
 *   --postgres <url>    Postgres server for the manager's metadata (a fresh database, dropped after); default
 *                       MYQUEUE_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/postgres when it answers,
 *                       else the manager's embedded PGlite
 *   --pglite            the manager's embedded PGlite even when Postgres is there
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reachablePostgres, startLocalCluster, type LocalCluster } from '@myqueue/local-cluster';
import { formatRun } from './format-report.js';
import { createScenarioTopics, runScenario } from './run-scenario.js';
import { SCENARIOS } from './scenario-spec.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      manager: { type: 'string' },
      scenario: { type: 'string' },
      out: { type: 'string' },
      'in-flight': { type: 'string', default: '1' },
      postgres: { type: 'string' },
      pglite: { type: 'boolean', default: false },
    },
  });
  const specs = SCENARIOS.filter((s) => values.scenario === undefined || s.name === values.scenario);
  if (specs.length === 0) {
    console.error(`no scenario ${values.scenario}; there are ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const inFlight = Number(values['in-flight']);
  if (!Number.isInteger(inFlight) || inFlight < 1) {
    console.error('--in-flight must be a positive integer');
    return 2;
  }
  const outDir = values.out ?? mkdtempSync(join(tmpdir(), 'myqueue-scenarios-'));
  const started = Date.now();
  let cluster: LocalCluster | undefined;
  let ok = true;
  try {
    let manager = values.manager;
    if (manager === undefined) {
      const postgresUrl = values.pglite
        ? undefined
        : (values.postgres ?? (await reachablePostgres()));
      cluster = await startLocalCluster({ brokers: 3, logLevel: 'warn', postgresUrl });
      manager = cluster.managerUrl;
      console.log(
        `local cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: manager ${manager} on ${postgresUrl ? 'Postgres' : 'PGlite'}, 3 brokers`,
      );
    }
    for (const spec of specs) await createScenarioTopics(spec, { manager });
    // The scenarios use different topics, so they run side by side on the one cluster.
    const runs = await Promise.all(specs.map((spec) => runScenario(spec, { manager, outDir, inFlight })));
    runs.forEach((run, i) => {
      console.log(formatRun(specs[i], run));
      ok &&= run.check.ok;
    });
  } catch (e) {
    ok = false;
    console.error(`scenarios failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await cluster?.stop();
  }
  if (ok && values.out === undefined) rmSync(outDir, { recursive: true, force: true });
  else console.log(`files of producers and consumers: ${outDir}`);
  console.log(`${ok ? 'all checks passed' : 'SOME CHECKS FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return ok ? 0 : 1;
}

// Exit explicitly: after a failure, clients of the failed run may still be retrying in the background.
const code = await main();
process.stdout.write('', () => process.exit(code));
