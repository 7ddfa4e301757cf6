#!/usr/bin/env node
// Entry point behind `npm test` and `npm run cluster`: on a machine with only Node >= 20.19 it first
// fetches pnpm (pinned by package.json's packageManager) into .tools/, installs the workspace from the
// lockfile and builds it, then hands over to the pnpm script of the same purpose.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '');
const isWin = process.platform === 'win32';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`myqueue needs Node >= 20.19 (this is ${process.versions.node})`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, shell: isWin, env: process.env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function probe(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', shell: isWin });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The pnpm binary to use: the one on PATH if it is the pinned major, else a local copy in .tools/. */
function ensurePnpm() {
  const onPath = probe('pnpm');
  if (onPath && onPath.split('.')[0] === pnpmVersion.split('.')[0]) return 'pnpm';
  const local = join(root, '.tools', 'node_modules', '.bin', isWin ? 'pnpm.cmd' : 'pnpm');
  if (probe(local) !== pnpmVersion) {
    mkdirSync(join(root, '.tools'), { recursive: true });
    console.log(`[myqueue] installing pnpm ${pnpmVersion} into .tools/`);
    const npm = isWin ? 'npm.cmd' : 'npm';
    const status = run(npm, ['install', '--prefix', '.tools', '--no-save', '--no-package-lock', '--loglevel=error', `pnpm@${pnpmVersion}`]);
    if (status !== 0) process.exit(status);
  }
  // pnpm scripts call `pnpm` again, so the local copy must be on PATH for them too.
  process.env.PATH = `${dirname(local)}${isWin ? ';' : ':'}${process.env.PATH ?? ''}`;
  return local;
}

/** Installs the workspace when the lockfile changed since the last install. */
function ensureInstalled(pnpm) {
  const marker = join(root, 'node_modules', '.myqueue-installed');
  const lock = join(root, 'pnpm-lock.yaml');
  const fresh = existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
  if (fresh) return;
  console.log('[myqueue] installing dependencies (better-sqlite3 compiles from source; this takes a minute)');
  const env = process.env;
  // node-gyp finds Node's headers locally instead of downloading them when the distro ships them.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  const status = run(pnpm, ['install', '--frozen-lockfile'], { env });
  if (status !== 0) process.exit(status);
  writeFileSync(marker, new Date().toISOString());
}

const task = process.argv[2];
const scripts = { test: 'test:all', cluster: 'cluster:start' };
if (!scripts[task]) {
  console.error(`usage: npm-entry.mjs ${Object.keys(scripts).join('|')} [args...]`);
  process.exit(2);
}
const pnpm = ensurePnpm();
ensureInstalled(pnpm);
process.exit(run(pnpm, ['run', scripts[task], ...process.argv.slice(3)]));
