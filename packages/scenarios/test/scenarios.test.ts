/**
 * `pnpm scenarios` end to end: the built entry point starts a fresh local cluster, runs both original
 * scenarios through the client library and exits 0 only if every check passed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('runs both scenarios against a fresh cluster; every consumer gets every message of its topics once, in order', async () => {
  const { code, output } = await run([], 280_000);
  expect(output).toMatch(/PASS scenario1/);
  expect(output).toMatch(/PASS scenario2/);
  expect(output).toMatch(/C1 T2: 2317\/2317 received over 3 partitions, each once, in order/);
  expect(output).toMatch(/all checks passed/);
  expect(code, output).toBe(0);
});

it('exits non-zero on bad arguments', async () => {
  const { code, output } = await run(['--scenario', 'scenario9'], 30_000);
  expect(output).toMatch(/no scenario scenario9/);
  expect(code).toBe(2);
});
