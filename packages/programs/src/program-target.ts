import { InvalidOptionError, type JobCall, type JobContext, type JobRegistry } from '@oddjob/core';
import { checkAllowList, resolveInvocation, type AllowList, type ProgramJobOptions } from './allow-list.js';
import { DEFAULT_LIMITS, type OutputLimits } from './output.js';
import { runInvocation, type ProgramResult } from './spawn.js';

/** The reserved target name program jobs are stored under. */
export const PROGRAM_TARGET = 'oddjob.program';
export const PROGRAM_METHOD = 'run';

export type ProgramsOptions = Partial<OutputLimits>;

/**
 * Registers the program target with `registry`, bound to this allow-list. The target is a class made
 * here with a no-argument constructor that closes over the (frozen) list: the shell builds targets
 * through its IContainerFactory, and this way `newInstanceFactory` and the inversify factory both
 * build it with no binding to add, while the allow-list stays executor-side configuration that no
 * job can reach. One registry holds one allow-list (registering a second is refused by the registry).
 */
export function registerPrograms(registry: JobRegistry, allowList: AllowList, options: ProgramsOptions = {}): void {
  const list = checkAllowList(allowList);
  const limits: OutputLimits = Object.freeze({ ...DEFAULT_LIMITS, ...definedOnly(options) });
  for (const key of ['maxLineBytes', 'logHeadChars', 'logTailChars', 'tailChars', 'fileMaxBytes'] as const) {
    if (!(Number.isInteger(limits[key]) && limits[key] > 0))
      throw new InvalidOptionError(key, 'must be a positive integer');
  }
  class ProgramTarget {
    /** Stored as `{ target: 'oddjob.program', method: 'run', args: [name, args, options] }`. */
    async run(name: string, args: unknown, options: unknown, ctx?: JobContext): Promise<ProgramResult> {
      if (ctx === undefined) throw new InvalidOptionError('ctx', 'program jobs run only inside an executor');
      const inv = resolveInvocation(list, name, args, options);
      return runInvocation(inv, ctx, limits);
    }
  }
  registry.register(PROGRAM_TARGET, ProgramTarget);
}

function definedOnly(o: object): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * The plain call a producer enqueues: `addJob(programJob('backup', ['--full']), { queue, runAt })`.
 * It works wherever a plain call does (run-at, schedules, other services); the executor checks it
 * against its allow-list when it runs, since that is the only place the list exists.
 */
export function programJob(name: string, args: readonly string[] = [], options: ProgramJobOptions = {}): JobCall {
  return { target: PROGRAM_TARGET, method: PROGRAM_METHOD, args: [name, [...args], { ...options }] };
}
