import { execa } from 'execa';
import type { JobContext } from '@oddjob/core';
import type { Invocation } from './allow-list.js';
import {
  ProgramAbortError,
  ProgramFailedError,
  ProgramKilledError,
  ProgramStartError,
  ProgramTimeoutError,
} from './errors.js';
import { OutputSink, type OutputLimits } from './output.js';

/** What a successful run returns: small, so it fits any store's result. */
export interface ProgramResult {
  readonly exitCode: number;
  readonly durationMs: number;
  readonly stdoutTail: string;
}

/** Why the process group is being ended; a closed set so the outcome below is exhaustive. */
type EndReason = { kind: 'abort'; reason: unknown } | { kind: 'timeout' } | { kind: 'leader-exited' };

/**
 * Runs one invocation to its end. The program leads its own process group (`detached`), so one
 * signal to `-pid` reaches everything it started; the group is ended (SIGTERM, then SIGKILL after
 * the grace) when the job is aborted, when the program's timeout passes, and when the program itself
 * exits while children it forked are still running (they would otherwise hold its output pipes open
 * and outlive the job).
 */
export async function runInvocation(inv: Invocation, ctx: JobContext, limits: OutputLimits): Promise<ProgramResult> {
  const started = Date.now();
  if (ctx.signal.aborted) throw new ProgramKilledError(inv.name, ctx.signal.reason);
  const sink = new OutputSink(ctx, inv.name, limits, new Date(started));
  const child = execa(inv.executable, inv.args, {
    cwd: inv.cwd,
    env: inv.env,
    extendEnv: inv.extendEnv,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  child.stdout?.on('data', (c: Buffer) => sink.write('stdout', c));
  child.stderr?.on('data', (c: Buffer) => sink.write('stderr', c));

  let ended: EndReason | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const endGroup = (why: EndReason): void => {
    // An abort or timeout outranks the leader's own exit: it is the reason the group is ending.
    if (ended === null || (ended.kind === 'leader-exited' && why.kind !== 'leader-exited')) ended = why;
    if (killTimer !== undefined) return;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), inv.killGraceMs);
    killTimer.unref();
  };
  const onAbort = (): void => endGroup({ kind: 'abort', reason: ctx.signal.reason });
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timeout = setTimeout(() => endGroup({ kind: 'timeout' }), inv.timeoutMs);
  // The leader exiting is not the end: `exit` comes before its pipes close, and a forked child may hold them.
  child.once('exit', () => {
    if (groupAlive(child.pid)) endGroup({ kind: 'leader-exited' });
  });

  let result;
  try {
    result = await child;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    clearTimeout(timeout);
    if (killTimer !== undefined) clearTimeout(killTimer);
    // Whatever happened, nothing of the group survives the job (SIGKILL: the grace is over or unneeded).
    signalGroup(child.pid, 'SIGKILL');
    if (child.pid !== undefined) liveGroups.delete(child.pid);
    await sink.finish();
  }
  const durationMs = Date.now() - started;
  const stderrTail = sink.stderr();

  const spawnCode = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (
    child.pid === undefined ||
    (result.exitCode === undefined && result.signal === undefined && spawnCode !== undefined)
  ) {
    throw new ProgramStartError(
      inv.name,
      spawnCode ?? 'ESPAWN',
      `${inv.executable}: ${(result.cause as Error | undefined)?.message ?? result.message}`,
    );
  }
  const why = ended as EndReason | null;
  if (why !== null) {
    switch (why.kind) {
      case 'abort':
        throw new ProgramKilledError(inv.name, why.reason);
      case 'timeout':
        throw new ProgramTimeoutError(inv.name, inv.timeoutMs, stderrTail);
      case 'leader-exited':
        break; // the program's own exit decides; its leftover children were ended
      default: {
        const never: never = why;
        throw new Error(`unexpected end ${String(never)}`);
      }
    }
  }
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  const outcome = { program: inv.name, exitCode, signal, durationMs, stderrTail };
  if (exitCode !== null && signal === null && inv.successExitCodes.includes(exitCode)) {
    return { exitCode, durationMs, stdoutTail: sink.stdout() };
  }
  if (exitCode !== null && inv.noRetryExitCodes.includes(exitCode)) throw new ProgramAbortError(outcome);
  throw new ProgramFailedError(outcome);
}

/**
 * Groups still running. execa's own `cleanup` does not apply to detached children, so when the
 * executor process exits (normally, or through an uncaught error) its groups are killed here.
 * A SIGKILLed executor cannot do this; see the README's limits.
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is the point.
  }
}

function groupAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
