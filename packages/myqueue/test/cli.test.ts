/**
 * The built `myqueue` CLI as a process against a real local cluster: create and list topics, produce a
 * file and stdin, consume them back, status, and a failure's exit code and message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster, testDatabaseOptions, type LocalCluster } from '@myqueue/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

let cluster: LocalCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokers: 1, logLevel: 'warn', ...(await testDatabaseOptions()) });
  dir = mkdtempSync(join(tmpdir(), 'myqueue-cli-test-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI with the cluster's manager; `input` goes to stdin. Interrupted (SIGINT) once its output
 * satisfies `interruptWhen`, if given; killed after `timeoutMs`.
 */
function myqueue(
  args: string[],
  input?: string,
  timeoutMs = 60_000,
  interruptWhen?: (stdout: string) => boolean,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, MYQUEUE_MANAGER: cluster.managerUrl },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (interruptWhen?.(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

describe('myqueue CLI', () => {
  it('prints its version', async () => {
    const v = await myqueue(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.code).toBe(0);
  });

  it('creates and lists topics', async () => {
    const created = await myqueue(['topics', 'create', 'lines', '-p', '1', '-r', '1']);
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/created lines: 1 partitions, replication factor 1/);
    expect(created.code).toBe(0);
    await myqueue(['topics', 'create', 'json', '-p', '2', '-r', '1']);
    const list = await myqueue(['topics']);
    expect(list.stdout.split('\n').filter(Boolean)).toEqual(['json', 'lines']);
  });

  it('produces a file and consumes it back, line for line, in order', async () => {
    // Tabs, quotes, backslashes and non-ASCII survive; empty lines are not messages.
    const lines = Array.from({ length: 3000 }, (_, i) => `${i}\t"quoted" \\ é ✓ ${'x'.repeat(i % 50)}`);
    const file = join(dir, 'lines.txt');
    writeFileSync(file, lines.slice(0, 1500).join('\n') + '\n\n' + lines.slice(1500).join('\r\n') + '\n');
    // stderr is a pipe here: --progress forces the bar, which then prints plain lines.
    const produced = await myqueue(['produce', 'lines', file, '--progress']);
    expect(produced.stderr).toMatch(/produce \|[^\n]*\| 100% \| 3000 sent/);
    expect(produced.stderr).toMatch(/sent 3000 messages to lines/);
    expect(produced.code).toBe(0);

    const consumed = await myqueue(['consume', 'lines', '--from-beginning', '-n', '3000']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stderr).toMatch(/consumed 3000 messages/);
    expect(consumed.stdout.split('\n').slice(0, -1)).toEqual(lines);
  });

  it('produces stdin with keys and prints JSON lines', async () => {
    const input = ['a', 'b', 'c', 'd'].join('\n') + '\n';
    const produced = await myqueue(['produce', 'json', '--key', 'k1'], input);
    expect(produced.code, produced.stderr).toBe(0);
    // An idle timeout ends the consumer once nothing more arrives.
    const consumed = await myqueue(['consume', 'json', '--from-beginning', '--json', '--idle-timeout', '5000']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { topic: string; partition: number; offset: number; key: string; value: string });
    expect(records.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd']);
    // One key, one partition: offsets 0..3 of it.
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(records.map((r) => [r.topic, r.key, r.offset])).toEqual([
      ['json', 'k1', 0],
      ['json', 'k1', 1],
      ['json', 'k1', 2],
      ['json', 'k1', 3],
    ]);
  });

  it('consume stops cleanly on SIGINT after printing what it got', async () => {
    const consumed = await myqueue(['consume', 'json', '--from-beginning'], undefined, 60_000, (out) =>
      out.endsWith('d\n'),
    );
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.split('\n').filter(Boolean)).toEqual(['a', 'b', 'c', 'd']);
    expect(consumed.stderr).toMatch(/consumed 4 messages/);
  });

  it('prints the cluster status', async () => {
    const status = await myqueue(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/brokers:\n\s+b1\s+alive/);
    expect(status.stdout).toMatch(/lines\/0\s+leader b1/);
  });

  it('fails with the error code and exit status 1', async () => {
    const missing = await myqueue(['consume', 'no-such-topic', '--idle-timeout', '1000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\(MQ_ERR_UNKNOWN_TOPIC\)/);
    const bad = await myqueue(['produce', 'lines', join(dir, 'does-not-exist.txt')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ENOENT/);
  });
});
