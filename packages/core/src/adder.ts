import { hostname } from 'node:os';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { InvalidOptionError, JobArgumentError } from './errors.js';
import { newJobId } from './ids.js';
import type { JobCall, JobOptions, NewJob } from './job.js';
import { DEFAULT_QUEUE } from './job.js';
import { recordCall, type CallRecorder } from './record-call.js';
import { defaultRegistry, ownMethod, type JobClass, type JobRegistry } from './registry.js';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy } from './retry.js';
import { assertPlainJson, serializeArgs } from './serializer.js';
import { checkDate, isStorableTime } from './checks/limits.js';
import { checkHostName } from './checks/manager-checks.js';
import { checkFlowOptions, resolveBatchParents, type CheckedFlowOptions } from './checks/flow-checks.js';
import { METHOD_PATTERN, NAME_PATTERN, QUEUE_PATTERN } from './patterns.js';

/** One entry of an `addJobs` batch: the typed form or the plain form, each with its options. */
export type JobSpec<T = unknown> =
  { target: JobClass<T>; call: CallRecorder<T>; options?: JobOptions } | { call: JobCall; options?: JobOptions };

/**
 * How applications enqueue. `Tx` is the provider's transaction handle (a pg client, an mssql
 * Transaction): pass it as `tx` and the job exists only if that transaction commits.
 */
export interface IJobQueueAdder<Tx = never> {
  /** Typed form: `addJob(EmailJob, (j) => j.send('a@b.c', 'hi'), { queue: 'mail' })`. Returns the job id. */
  addJob<T>(target: JobClass<T>, call: CallRecorder<T>, options?: JobOptions & { tx?: Tx }): Promise<string>;
  /** Plain form for untyped producers: `addJob({ target: 'email', method: 'send', args: [...] })`. */
  addJob(call: JobCall, options?: JobOptions & { tx?: Tx }): Promise<string>;
  /** A batch in one round trip; ids in the same order. */
  addJobs(specs: readonly JobSpec<any>[], options?: { tx?: Tx }): Promise<string[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The one storage operation an adder needs: write prepared jobs, answer their ids. */
export interface IJobWriter<Tx = never> {
  /**
   * Inserts the jobs. For a job whose uniqueKey is already taken nothing is written and the id of the
   * job holding the key is answered in its place.
   */
  insertJobs(jobs: readonly NewJob[], tx?: Tx): Promise<string[]>;
}

/**
 * Turns what the user wrote into a NewJob: resolves the target's stored name, records the call,
 * validates options, serializes arguments (naming the bad one). Shared by every provider's adder, so
 * that validation cannot differ between stores.
 */
export function prepareJob<T>(
  spec: JobSpec<T>,
  registry: JobRegistry = defaultRegistry,
  clock: Clock = systemClock,
  defaultPin: string | null = null,
): NewJob {
  const { job, after } = prepareWithParents(spec, registry, clock, defaultPin);
  if (after?.parents.some((p) => typeof p.job === 'number')) {
    throw new InvalidOptionError('after', 'a batch index names a job of the same addJobs batch; use a job id here');
  }
  return { ...job, after: after as NewJob['after'] };
}

/** prepareJob, leaving batch indexes in `after` for addJobs to resolve. */
function prepareWithParents<T>(
  spec: JobSpec<T>,
  registry: JobRegistry,
  clock: Clock,
  defaultPin: string | null,
): { job: NewJob; after: CheckedFlowOptions['after'] } {
  let target: string;
  let method: string;
  let args: unknown[];
  if ('target' in spec && typeof spec.target === 'function') {
    target = registry.nameOf(spec.target);
    ({ method, args } = recordCall(spec.call));
    ownMethod(spec.target, target, method); // fail at enqueue, not at run, for a method that is not the class's own
  } else {
    const call = spec.call as JobCall;
    if (call === null || typeof call !== 'object')
      throw new InvalidOptionError('call', 'must be { target, method, args }');
    ({ target, method, args } = call);
    if (typeof target !== 'string' || !NAME_PATTERN.test(target)) {
      throw new InvalidOptionError('target', `"${String(target)}" must match ${NAME_PATTERN}`);
    }
    if (!Array.isArray(args)) throw new InvalidOptionError('args', 'must be an array');
  }
  if (typeof method !== 'string' || !METHOD_PATTERN.test(method)) {
    throw new InvalidOptionError('method', `"${String(method)}" is not a method name`);
  }
  const options = spec.options ?? {};
  const queue = options.queue ?? DEFAULT_QUEUE;
  if (typeof queue !== 'string' || !QUEUE_PATTERN.test(queue)) {
    throw new InvalidOptionError('queue', `"${String(queue)}" must match ${QUEUE_PATTERN}`);
  }
  let runAt: Date | null = null;
  if (options.runAt !== undefined) {
    runAt = checkDate('runAt', options.runAt);
  } else if (options.delayMs !== undefined) {
    if (typeof options.delayMs !== 'number' || !Number.isFinite(options.delayMs) || options.delayMs < 0) {
      throw new InvalidOptionError('delayMs', `must be a finite number >= 0, got ${String(options.delayMs)}`);
    }
    const at = clock.now().getTime() + options.delayMs;
    // Checked here, naming delayMs: a huge delay would otherwise become an Invalid Date (or a year no
    // store can hold) and be refused as "runAt", an option the user never passed.
    if (!isStorableTime(at)) {
      throw new InvalidOptionError(
        'delayMs',
        `${String(options.delayMs)} ms from now is past the year 9999, which no store can hold`,
      );
    }
    runAt = new Date(at);
  }
  const metadata = options.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new InvalidOptionError('metadata', 'must be a plain object');
  }
  assertPlainJson(metadata, 'metadata');
  // PostgreSQL's jsonb cannot hold U+0000; refused on every store so none keeps what another cannot.
  const nulAt = nulPath(metadata, 'metadata');
  if (nulAt !== null)
    throw new JobArgumentError(nulAt, 'must not contain the character U+0000 (no store keeps it in JSON)');
  const uniqueKey = options.uniqueKey ?? null;
  if (uniqueKey !== null && (typeof uniqueKey !== 'string' || uniqueKey.length === 0 || uniqueKey.length > 512)) {
    throw new InvalidOptionError('uniqueKey', 'must be a string of 1 to 512 characters');
  }
  const retry = options.retry === undefined ? DEFAULT_RETRY_POLICY : validateRetryPolicy(options.retry);
  const pin = options.pinnedHost === undefined ? defaultPin : options.pinnedHost;
  const pinnedHost = pin === null ? null : checkHostName('pinnedHost', pin);
  const flow = checkFlowOptions(options, uniqueKey !== null);
  const job: NewJob = {
    id: newJobId(),
    queue,
    target,
    method,
    args: serializeArgs(args),
    runAt,
    retry,
    metadata,
    uniqueKey,
    pinnedHost,
    uniqueScope: flow.uniqueScope,
    priority: flow.priority,
    after: null,
    concurrency: flow.concurrency,
    sequence: flow.sequence,
  };
  return { job, after: flow.after };
}

/** Where (a path) a key or string inside plain JSON data holds U+0000, or null if nowhere. */
function nulPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = nulPath(value[i], `${path}[${i}]`);
      if (at !== null) return at;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const at = k.includes('\u0000') ? `${path}.${JSON.stringify(k)}` : nulPath(v, `${path}.${k}`);
    if (at !== null) return at;
  }
  return null;
}

/** What every store's `adder(options)` takes. */
export interface AdderOptions {
  /** The registry typed enqueues are checked against (default: the one `@job` registers in). */
  registry?: JobRegistry;
  /**
   * Pins every job this adder adds to a host unless the job's own `pinnedHost` says otherwise
   * (null: unpinned): true pins to this host (`os.hostname()`, what executors claim as by default),
   * a string to that host name. Default false: jobs are not pinned.
   */
  pinToHost?: boolean | string;
}

/** The host an adder pins to for its `pinToHost` option, or null (checked, naming the option). */
export function pinOf(pinToHost: boolean | string | undefined): string | null {
  if (pinToHost === undefined || pinToHost === false) return null;
  if (pinToHost === true) return hostname();
  if (typeof pinToHost !== 'string') throw new InvalidOptionError('pinToHost', 'must be true, false or a host name');
  return checkHostName('pinToHost', pinToHost);
}

/** A listener told after jobs were written, e.g. to nudge a coordinator in the same process. */
export type AddedListener = (queues: ReadonlySet<string>) => void;

/**
 * The IJobQueueAdder every provider exports (under its own name): validation lives here, the write
 * lives in the provider's IJobWriter.
 */
export class JobQueueAdder<Tx = never> implements IJobQueueAdder<Tx> {
  /** The adder's default pin (from `pinToHost`), checked once here so a bad option fails at once. */
  private readonly pin: string | null;

  constructor(
    protected readonly writer: IJobWriter<Tx>,
    protected readonly options: AdderOptions & { clock?: Clock } = {},
  ) {
    this.pin = pinOf(options.pinToHost);
  }

  addJob<T>(target: JobClass<T>, call: CallRecorder<T>, options?: JobOptions & { tx?: Tx }): Promise<string>;
  addJob(call: JobCall, options?: JobOptions & { tx?: Tx }): Promise<string>;
  async addJob(
    a: JobClass | JobCall,
    b?: CallRecorder<unknown> | (JobOptions & { tx?: Tx }),
    c?: JobOptions & { tx?: Tx },
  ): Promise<string> {
    const spec: JobSpec<unknown> =
      typeof a === 'function'
        ? { target: a, call: b as CallRecorder<unknown>, options: c }
        : { call: a, options: b as JobOptions | undefined };
    const tx = (typeof a === 'function' ? c : (b as { tx?: Tx } | undefined))?.tx;
    const [id] = await this.writer.insertJobs([this.prepare(spec)], tx);
    return id;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async addJobs(specs: readonly JobSpec<any>[], options: { tx?: Tx } = {}): Promise<string[]> {
    if (!Array.isArray(specs)) throw new InvalidOptionError('specs', 'must be an array');
    if (specs.length === 0) return [];
    const prepared = specs.map((s, i) => {
      try {
        return prepareWithParents(s as JobSpec<unknown>, this.registry, this.clock, this.pin);
      } catch (err) {
        if (err instanceof Error) err.message = `job ${i} of the batch: ${err.message}`;
        throw err;
      }
    });
    const after = resolveBatchParents(
      prepared.map((p) => p.job.id),
      prepared.map((p) => p.after),
    );
    const jobs = prepared.map((p, i) => (after[i] === null ? p.job : { ...p.job, after: after[i] }));
    return this.writer.insertJobs(jobs, options.tx);
  }

  protected prepare(spec: JobSpec<unknown>): NewJob {
    return prepareJob(spec, this.registry, this.clock, this.pin);
  }

  private get registry(): JobRegistry {
    return this.options.registry ?? defaultRegistry;
  }

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }
}
