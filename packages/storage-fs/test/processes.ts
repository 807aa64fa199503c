import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled child script (dist/test/child.js), beside this file once compiled. */
export const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Resolves with the exit code (or the signal's name); rejects never. */
  exited: Promise<number | string>;
  stderr: () => string;
}

export function startChild(args: string[], as?: { uid: number; gid: number }): Child {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'], ...as });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { proc, exited, stderr: () => err };
}

/** Runs another compiled test script (beside this file) as a child, like startChild. */
export function startScript(script: string, args: string[]): Child {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const proc = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { proc, exited, stderr: () => err };
}
