/**
 * Preloaded into each broker by `pnpm bench --cpu-prof DIR` (NODE_OPTIONS=--import=..., because Node does
 * not accept --cpu-prof in NODE_OPTIONS): profiles the whole process with the inspector and writes a
 * .cpuprofile (open it in Chrome DevTools or speedscope) to $BENCH_CPU_PROF_DIR when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // The in-thread inspector session answers synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const name = `${process.env.BROKER_ID ?? 'node'}-${process.pid}.cpuprofile`;
      writeFileSync(join(dir, name), JSON.stringify(result.profile));
    });
  });
}
