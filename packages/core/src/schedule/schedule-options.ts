// What callers hand the ScheduleManager: the option, patch and answer types, and the checks of their
// shape (known keys, name, the two call forms). Apart from schedule-manager.ts because they are the
// public vocabulary of schedules, read by every caller, while the manager's file is about how a
// change is written (the compare-and-set loops, the timing and payload checks against the store).
import type { AlreadyRunning } from '../flow.js';
import type { IJobWriter } from '../adder.js';
import type { Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import type { JobCall, JobMetadata } from '../job.js';
import { NAME_PATTERN } from '../patterns.js';
import type { CallRecorder } from '../record-call.js';
import type { JobClass, JobRegistry } from '../registry.js';
import type { RetryPolicy } from '../retry.js';
import type { IScheduleStore, MisfirePolicy, ScheduleRecord } from '../schedule-store.js';

/** How and where a schedule fires. */
export interface ScheduleOptions {
  /** 5 or 6 fields (seconds first), a macro (@hourly, @daily, @weekly, @monthly, @yearly, ...), or '@once'. */
  cron: string;
  /** Required with '@once' (the one fire time; a past time fires at the next tick), refused otherwise. */
  at?: Date;
  /** IANA zone the expression is read in; default 'UTC' (never the process's zone). */
  timeZone?: string;
  /** Queue of the jobs it makes; default "default". */
  queue?: string;
  retry?: RetryPolicy;
  /** Copied into every job it makes (plus `oddjob.schedule`: { name, fireAt, manual }). */
  metadata?: JobMetadata;
  /** What to do with fire times missed while no scheduler ran; default { kind: 'skip' }. */
  misfire?: MisfirePolicy;
  /** Create it paused; default false. */
  paused?: boolean;
  /** Priority of the jobs it makes (see JobOptions.priority); default 0. */
  priority?: number;
  /**
   * What to do when it fires while a job it made earlier is not finished: 'skip' (make none this
   * time), 'queue' (make one that waits its turn) or 'allow' (run side by side, the default when no
   * concurrencyKey is given either). Setting this without a key uses `oddjob.schedule:<name>`.
   */
  alreadyRunning?: AlreadyRunning;
  /** The concurrency key of the jobs it makes (shared with other schedules or jobs if you like). */
  concurrencyKey?: string;
  /** 1 to 10,000; default 1. */
  concurrencyLimit?: number;
}

/** The job a schedule makes: the typed form `{ target: EmailJob, call: (j) => j.send(...) }` or a plain JobCall. */
export type ScheduledCall<T = unknown> = { target: JobClass<T>; call: CallRecorder<T> } | JobCall;

/**
 * A change to a schedule; fields left out keep their value. Every option but `paused` (pause and
 * resume are their own calls), and a new payload.
 */
export interface SchedulePatch<T = unknown> extends Partial<Omit<ScheduleOptions, 'paused'>> {
  /** New payload (target, method, arguments). */
  job?: ScheduledCall<T>;
}

/** A schedule as `get` answers it: the stored record plus its coming fire times. */
export interface ScheduleInfo extends ScheduleRecord {
  /** The next fire times, starting with nextFireAt (which may be in the past if it is overdue); [] if paused or finished. */
  upcoming: Date[];
}

export interface ScheduleManagerOptions {
  store: IScheduleStore;
  /** Used by `triggerNow`. */
  writer: IJobWriter<never>;
  /** Targets a schedule may name; a schedule of an unregistered target or method is refused. */
  registry?: JobRegistry;
  clock?: Clock;
}

const FLOW_KEYS = ['priority', 'alreadyRunning', 'concurrencyKey', 'concurrencyLimit'];
const OPTION_KEYS = new Set([
  'cron',
  'at',
  'timeZone',
  'queue',
  'retry',
  'metadata',
  'misfire',
  'paused',
  ...FLOW_KEYS,
]);
export const PATCH_KEYS = new Set([
  'cron',
  'at',
  'timeZone',
  'queue',
  'retry',
  'metadata',
  'misfire',
  'job',
  ...FLOW_KEYS,
]);

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidOptionError('name', `"${String(name)}" must match ${NAME_PATTERN}`);
  }
}

export function checkKeys(object: object, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) {
      throw new InvalidOptionError(key, `is not a schedule option; known: ${[...allowed].join(', ')}`);
    }
  }
}

/**
 * The two call forms of create/upsert — typed `(name, Class, j => j.m(...), options)` and plain
 * `(name, { target, method, args }, options)` — as one shape, with the options checked.
 */
export function scheduleArguments(
  a: JobClass | JobCall,
  b: CallRecorder<unknown> | ScheduleOptions,
  c: ScheduleOptions | undefined,
): { job: ScheduledCall; options: ScheduleOptions } {
  const job: ScheduledCall = typeof a === 'function' ? { target: a, call: b as CallRecorder<unknown> } : a;
  const options = (typeof a === 'function' ? c : b) as ScheduleOptions | undefined;
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'must be an object with at least { cron }');
  }
  checkKeys(options, OPTION_KEYS);
  if (options.paused !== undefined && typeof options.paused !== 'boolean') {
    throw new InvalidOptionError('paused', 'must be a boolean');
  }
  return { job, options };
}
