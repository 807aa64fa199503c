import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import { newJobId } from './ids.js';
import type { JobCall, JobOptions, NewJob } from './job.js';
import { DEFAULT_QUEUE } from './job.js';
import { recordCall, type CallRecorder } from './record-call.js';
import { defaultRegistry, ownMethod, type JobClass, type JobRegistry } from './registry.js';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy } from './retry.js';
import { assertPlainJson, serializeArgs } from './serializer.js';

/** One entry of an `addJobs` batch: the typed form or the plain form, each with its options. */
export type JobSpec<T = unknown> =
  | { target: JobClass<T>; call: CallRecorder<T>; options?: JobOptions }
  | { call: JobCall; options?: JobOptions };

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

const QUEUE_PATTERN = /^[A-Za-z0-9_.:\-]{1,100}$/;
const METHOD_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]{0,199}$/;

/**
 * Turns what the user wrote into a NewJob: resolves the target's stored name, records the call,
 * validates options, serializes arguments (naming the bad one). Shared by every provider's adder, so
 * that validation cannot differ between stores.
 */
export function prepareJob<T>(
  spec: JobSpec<T>,
  registry: JobRegistry = defaultRegistry,
  clock: Clock = systemClock,
): NewJob {
  let target: string;
  let method: string;
  let args: unknown[];
  if ('target' in spec && typeof spec.target === 'function') {
    target = registry.nameOf(spec.target);
    ({ method, args } = recordCall(spec.call as CallRecorder<T>));
    ownMethod(spec.target, target, method); // fail at enqueue, not at run, for a method that is not the class's own
  } else {
    const call = spec.call as JobCall;
    if (call === null || typeof call !== 'object') throw new InvalidOptionError('call', 'must be { target, method, args }');
    ({ target, method, args } = call);
    if (typeof target !== 'string' || target.length === 0) throw new InvalidOptionError('target', 'must be a non-empty string');
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
    if (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime())) {
      throw new InvalidOptionError('runAt', 'must be a valid Date');
    }
    runAt = options.runAt;
  } else if (options.delayMs !== undefined) {
    if (typeof options.delayMs !== 'number' || !Number.isFinite(options.delayMs) || options.delayMs < 0) {
      throw new InvalidOptionError('delayMs', `must be a finite number >= 0, got ${String(options.delayMs)}`);
    }
    runAt = new Date(clock.now().getTime() + options.delayMs);
  }
  const metadata = options.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new InvalidOptionError('metadata', 'must be a plain object');
  }
  assertPlainJson(metadata, 'metadata');
  const uniqueKey = options.uniqueKey ?? null;
  if (uniqueKey !== null && (typeof uniqueKey !== 'string' || uniqueKey.length === 0 || uniqueKey.length > 512)) {
    throw new InvalidOptionError('uniqueKey', 'must be a string of 1 to 512 characters');
  }
  const retry = options.retry === undefined ? DEFAULT_RETRY_POLICY : validateRetryPolicy(options.retry);
  return {
    id: newJobId(),
    queue,
    target,
    method,
    args: serializeArgs(args),
    runAt,
    retry,
    metadata,
    uniqueKey,
  };
}

/** A listener told after jobs were written, e.g. to nudge a coordinator in the same process. */
export type AddedListener = (queues: ReadonlySet<string>) => void;

/**
 * The IJobQueueAdder every provider exports (under its own name): validation lives here, the write
 * lives in the provider's IJobWriter.
 */
export class JobQueueAdder<Tx = never> implements IJobQueueAdder<Tx> {
  constructor(
    protected readonly writer: IJobWriter<Tx>,
    protected readonly options: { registry?: JobRegistry; clock?: Clock } = {},
  ) {}

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
    return id!;
  }

  async addJobs(specs: readonly JobSpec<any>[], options: { tx?: Tx } = {}): Promise<string[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!Array.isArray(specs)) throw new InvalidOptionError('specs', 'must be an array');
    if (specs.length === 0) return [];
    const jobs = specs.map((s, i) => {
      try {
        return this.prepare(s as JobSpec<unknown>);
      } catch (err) {
        if (err instanceof Error) err.message = `job ${i} of the batch: ${err.message}`;
        throw err;
      }
    });
    return this.writer.insertJobs(jobs, options.tx);
  }

  protected prepare(spec: JobSpec<unknown>): NewJob {
    return prepareJob(spec, this.options.registry, this.options.clock);
  }
}
