/**
 * `npm run bench -- race-next`: the race against the newest graphile-worker, pg-boss and Sidequest,
 * on Node 24 for every contender. Those releases need Node 22+, so they live in bench/next with a
 * package.json and lock of their own, outside the workspaces that CI installs on Node 20. This
 * script installs that folder and tools/node24 (`npm ci`: the `node` npm package brings the Node 24
 * binary, nothing is installed by hand), compiles it, and runs its race with that binary. The Node 20
 * race (`npm run bench -- race`, graphile-worker 0.17.3 and pg-boss 10.4.2) stays as it is.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const NEXT = fileURLToPath(new URL('../../next', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The same Node 24 that CI runs the suite on (tools/node24: the `node` npm package, not a workspace). */
const NODE24 = join(ROOT, 'tools', 'node24');

function sh(cmd: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}`)),
    );
  });
}

export async function main(): Promise<void> {
  const node24 = join(NODE24, 'node_modules', '.bin', 'node');
  if (!existsSync(node24)) {
    console.log('installing Node 24 (tools/node24) ...');
    await sh('npm', ['ci', '--no-audit', '--no-fund'], NODE24);
  }
  if (!existsSync(join(NEXT, 'node_modules')) || process.env.RACE_NEXT_REINSTALL === '1') {
    console.log('installing bench/next (graphile-worker, pg-boss, Sidequest) ...');
    await sh('npm', ['ci', '--no-audit', '--no-fund'], NEXT);
  }
  await sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', NEXT], ROOT);
  await sh(node24, [join(NEXT, 'dist', 'run.js')], ROOT);
}
