// The options of jobs that wait, as the CLI takes them (enqueue, schedules set): parsed here into
// core's JobOptions / ScheduleOptions names. Core checks the values themselves (ranges, a limit
// without a key, unknown parents), so this only turns text into the types and names what is wrong.
import {
  ALREADY_RUNNING_POLICIES,
  DEPENDENCY_WHENS,
  UNIQUE_SCOPES,
  type AfterRule,
  type AlreadyRunning,
  type DependencyWhen,
  type JobOptions,
  type UniqueScope,
} from '@oddjob/core';
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export interface FlowOpts {
  priority?: string;
  after?: string[];
  afterRule?: string;
  concurrencyKey?: string;
  concurrencyLimit?: string;
  alreadyRunning?: string;
  uniqueScope?: string;
}

const AFTER_RULES: readonly AfterRule[] = ['each', 'mixed'];

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`${flag} ${JSON.stringify(value)}: must be one of ${allowed.join(', ')}`);
  return value as T;
}

function integer(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n))
    throw new CliError(`${flag} ${JSON.stringify(value)}: not an integer`);
  return n;
}

/** `ID` or `ID:when` (when: succeeded, failed, finished; default succeeded). */
export function parseParent(text: string): { job: string; when: DependencyWhen } {
  const at = text.lastIndexOf(':');
  if (at < 0) return { job: text, when: 'succeeded' };
  return { job: text.slice(0, at), when: oneOf('--after', text.slice(at + 1), DEPENDENCY_WHENS) };
}

/** The key options a schedule takes too (priority, concurrency key and limit, already-running policy). */
export function keyOptions(
  o: FlowOpts,
): Pick<JobOptions, 'priority' | 'concurrencyKey' | 'concurrencyLimit' | 'alreadyRunning'> {
  return {
    ...(o.priority !== undefined ? { priority: integer('--priority', o.priority) } : {}),
    ...(o.concurrencyKey !== undefined ? { concurrencyKey: o.concurrencyKey } : {}),
    ...(o.concurrencyLimit !== undefined
      ? { concurrencyLimit: integer('--concurrency-limit', o.concurrencyLimit) }
      : {}),
    ...(o.alreadyRunning !== undefined
      ? { alreadyRunning: oneOf<AlreadyRunning>('--already-running', o.alreadyRunning, ALREADY_RUNNING_POLICIES) }
      : {}),
  };
}

/** Every flow option of a job. */
export function flowOptions(o: FlowOpts): JobOptions {
  return {
    ...keyOptions(o),
    ...(o.after !== undefined && o.after.length > 0 ? { after: o.after.map(parseParent) } : {}),
    ...(o.afterRule !== undefined ? { afterRule: oneOf<AfterRule>('--after-rule', o.afterRule, AFTER_RULES) } : {}),
    ...(o.uniqueScope !== undefined
      ? { uniqueScope: oneOf<UniqueScope>('--unique-scope', o.uniqueScope, UNIQUE_SCOPES) }
      : {}),
  };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** --priority, --concurrency-key, --concurrency-limit, --already-running. */
export const withKeyOptions = (cmd: Command, whose: string): Command =>
  cmd
    .option('--priority <n>', `priority of ${whose}: -32768 to 32767, higher is claimed first (default 0)`)
    .option('--concurrency-key <key>', `at most --concurrency-limit of ${whose} with this key run at once`)
    .option('--concurrency-limit <n>', 'how many jobs of the key may run at once (default 1)')
    .option(
      '--already-running <policy>',
      `while a job of the key is not final: ${ALREADY_RUNNING_POLICIES.join(', ')} (skip adds nothing, queue waits its turn, allow runs beside it)`,
    );

/** Every flow option of a job: the key options, --after, --after-rule, --unique-scope. */
export const withFlowOptions = (cmd: Command): Command =>
  withKeyOptions(cmd, 'the job')
    .option(
      '--after <id[:when]>',
      `wait for this job to end (when: ${DEPENDENCY_WHENS.join(', ')}; default succeeded); repeat for several`,
      collect,
    )
    .option(
      '--after-rule <rule>',
      'each (every parent ends as its when says, the default) or mixed (some done, some not)',
    )
    .option('--unique-scope <scope>', `how long --unique-key is held: ${UNIQUE_SCOPES.join(', ')} (default stored)`);
