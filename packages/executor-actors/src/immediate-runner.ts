import { hostname } from 'node:os';
import {
  InvalidOptionError,
  OddJobError,
  RunLogBuffer,
  defaultRegistry,
  deserializeArgs,
  formatLogParts,
  newInstanceFactory,
  prepareJob,
  runWithJobContext,
  serializeResult,
  storedAmbient,
  systemClock,
  toJobError,
  withCapturedAmbient,
  type AmbientContext,
  type AttemptedJob,
  type CallRecorder,
  type Clock,
  type IAttemptedJobWriter,
  type IContainerFactory,
  type JobClass,
  type JobContext,
  type JobLogger,
  type JobOptions,
  type JobRegistry,
  type LogLevel,
  type NewJob,
} from '@oddjob/core';
import { defaultLogger } from './logger.js';
import { decideFailure } from './outcome-policy.js';

/** Told to the caller of executeWithRetries when the first attempt failed and the job was stored. */
export class JobPersistedError extends OddJobError {
  constructor(
    readonly jobId: string,
    /** 'retry': stored to run again at `runAt`; 'failed': stored as failed (abort error, or no attempt left). */
    readonly stored: 'retry' | 'failed',
    readonly runAt: Date | null,
    cause: unknown,
  ) {
    super(
      `the first attempt failed (${toJobError(cause).message}); job ${jobId} was stored as ${stored}${runAt ? ` to run again at ${runAt.toISOString()}` : ''}`,
      { cause },
    );
  }
}

/** The first attempt failed and storing the job failed too: the job is lost; both errors are attached. */
export class JobNotPersistedError extends OddJobError {
  constructor(
    readonly attemptError: unknown,
    storageError: unknown,
  ) {
    super(
      `the first attempt failed (${toJobError(attemptError).message}) and the job could not be stored: ${toJobError(storageError).message}`,
      { cause: storageError },
    );
  }
}

export interface ImmediateRunnerOptions {
  /** The store the failed jobs go to: any OddJob store object (each implements insertAttempted). */
  store: IAttemptedJobWriter;
  /** The same registry and container factory as your executor, so the target resolves the same way. */
  registry?: JobRegistry;
  containers?: IContainerFactory;
  logger?: JobLogger;
  clock?: Clock;
  /** Captured at the call and restored around the run, and stored with a failed job. */
  ambient?: AmbientContext<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Who ran the attempt, as a stored job's run names it (its executorId). Default `immediate:<pid>`. */
  owner?: string;
  /** The host the run names. Default os.hostname(). */
  host?: string;
}

export type ImmediateOptions = JobOptions & {
  /** Write a `done` record when the first attempt succeeds. Default false: success writes nothing. */
  persistOnSuccess?: boolean;
};

/**
 * Runs a job's method now, in this process, and stores the job only if that first attempt fails
 * (VITA 3A / 3B). A process that dies during the attempt loses the job: nothing was stored yet. When
 * that matters, use `addJob` (stored first, then run by an executor).
 */
export class ImmediateRunner {
  private readonly store: IAttemptedJobWriter;
  private readonly registry: JobRegistry;
  private readonly containers: IContainerFactory;
  private readonly logger: JobLogger;
  private readonly clock: Clock;
  private readonly ambient: AmbientContext | undefined;
  private readonly owner: string;
  private readonly host: string;
  private readonly background = new Set<Promise<void>>();

  constructor(options: ImmediateRunnerOptions) {
    const store = options?.store;
    if (typeof store?.insertAttempted !== 'function') {
      throw new InvalidOptionError(
        'store',
        'the runner needs { store } with insertAttempted (any OddJob store object: memory, fs, postgres, sqlserver)',
      );
    }
    this.store = store;
    this.registry = options.registry ?? defaultRegistry;
    this.containers = options.containers ?? newInstanceFactory;
    this.logger = options.logger ?? defaultLogger();
    this.clock = options.clock ?? systemClock;
    this.ambient = options.ambient;
    this.owner = options.owner ?? `immediate:${process.pid}`;
    this.host = options.host ?? hostname();
  }

  /**
   * Runs the call now. Resolves with the method's value on success. On failure, stores the job and
   * rejects with JobPersistedError (its jobId, and whether it will run again), or with
   * JobNotPersistedError if the store refused too. Invalid input (an unregistered class, arguments that
   * cannot be stored) is refused before anything runs, as addJob would.
   */
  async executeWithRetries<T, R>(
    target: JobClass<T>,
    call: (job: T) => R,
    options: ImmediateOptions = {},
  ): Promise<Awaited<R>> {
    const { persistOnSuccess, ...jobOptions } = options;
    const job = this.prepare(target, call, jobOptions);
    const attempt = this.startAttempt(job);
    let value: Awaited<R>;
    try {
      value = (await this.runOnce(target, job, attempt)) as Awaited<R>;
    } catch (err) {
      throw await this.persistFailure(attempt, err);
    }
    if (persistOnSuccess === true) await this.persistDone(attempt, value);
    return value;
  }

  /**
   * Starts the call and returns its job id at once. A failure stores the job (logged at warn with the
   * id); a failure to store it is logged at error. `idle()` waits for every background run.
   */
  runInBackground<T>(target: JobClass<T>, call: CallRecorder<T>, options: ImmediateOptions = {}): string {
    const { persistOnSuccess, ...jobOptions } = options;
    const job = this.prepare(target, call, jobOptions);
    const attempt = this.startAttempt(job);
    const work = (async () => {
      let value: unknown;
      try {
        value = await this.runOnce(target, job, attempt);
      } catch (err) {
        const told = await this.persistFailure(attempt, err);
        if (told instanceof JobPersistedError)
          this.logger.warn({ jobId: job.id, err }, 'oddjob: background run failed; the job was stored');
        else
          this.logger.error(
            { jobId: job.id, err: told },
            'oddjob: background run failed and the job could not be stored; it is lost',
          );
        return;
      }
      if (persistOnSuccess === true)
        await this.persistDone(attempt, value).catch((err: unknown) =>
          this.logger.error(
            { jobId: job.id, err },
            'oddjob: background run succeeded but its done record could not be stored',
          ),
        );
    })();
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
    return job.id;
  }

  /** Resolves once every background run started so far has finished (and stored what it had to). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private prepare<T>(target: JobClass<T>, call: CallRecorder<T>, options: JobOptions): NewJob {
    // Refused before the run, not when a failure is stored: a job that runs now has waited for
    // nothing, and running it beside its key's jobs would break the key's limit.
    for (const option of ['after', 'concurrencyKey'] as const) {
      if (options[option] !== undefined) {
        throw new InvalidOptionError(
          option,
          'a job run at once cannot wait for other jobs or a slot of a key; use addJob',
        );
      }
    }
    const withAmbient = this.ambient === undefined ? options : withCapturedAmbient(this.ambient, options);
    return prepareJob({ target, call, options: withAmbient }, this.registry, this.clock);
  }

  /** The attempt as it starts: its time and its log, stored with the job if it must be. */
  private startAttempt(job: NewJob): Attempt {
    return { job, startedAt: this.clock.now(), log: new RunLogBuffer(this.clock) };
  }

  /** The worker's path: same registry, a DI scope per run, the job context, the ambient context. */
  private async runOnce(target: JobClass, job: NewJob, attempt: Attempt): Promise<unknown> {
    const method = this.registry.resolveMethod(job.target, job.method);
    // The stored form of the arguments, so that the first attempt sees what a retry would.
    const args = deserializeArgs(job.args, job.id);
    const scope = this.containers.createScope();
    try {
      const instance: unknown = scope.resolve(target);
      const ctx = this.contextFor(job, attempt.log);
      const invoke = () => runWithJobContext(ctx, () => method.apply(instance, args));
      const captured = storedAmbient(job.metadata);
      return await (captured === undefined || this.ambient === undefined
        ? invoke()
        : this.ambient.restore(captured, invoke));
    } finally {
      await Promise.resolve(scope.dispose()).catch((err: unknown) =>
        this.logger.warn({ err, jobId: job.id }, 'oddjob: disposing the job scope failed'),
      );
    }
  }

  private contextFor(job: NewJob, log: RunLogBuffer): JobContext {
    const logger = this.logger.child
      ? this.logger.child({ jobId: job.id, queue: job.queue, immediate: true })
      : this.logger;
    return {
      jobId: job.id,
      queue: job.queue,
      attempt: 1,
      maxAttempts: job.retry.maxAttempts,
      metadata: job.metadata,
      signal: new AbortController().signal,
      logger,
      ambient: storedAmbient(job.metadata),
      // Nothing is stored during an immediate attempt: progress has nowhere to go, and log lines go
      // to the logger and wait in the attempt's buffer, stored with the job if the attempt fails.
      reportProgress: () => Promise.resolve(true),
      log: (...parts: unknown[]) => this.logLine(logger, log, job, 'info', parts),
      logAt: (level: LogLevel, ...parts: unknown[]) => this.logLine(logger, log, job, level, parts),
    };
  }

  private logLine(logger: JobLogger, log: RunLogBuffer, job: NewJob, level: LogLevel, parts: unknown[]): void {
    const text = formatLogParts(parts);
    logger[level]({ jobId: job.id }, text);
    log.add(level, text);
  }

  /**
   * Stores the job after its failed attempt 1, in one write (insertAttempted), in its own queue:
   * `retry` at the time the executor's own rule gives (abort errors and unknown targets are never
   * retried), else `failed`. A claim later counts attempt 2 under the job's own retry policy.
   */
  private async persistFailure(attempt: Attempt, cause: unknown): Promise<JobPersistedError | JobNotPersistedError> {
    const { job } = attempt;
    const finishedAt = this.clock.now();
    const lease = { jobId: job.id, token: '' };
    const probe = { ...job, attempts: 1, retry: job.retry } as unknown as Parameters<typeof decideFailure>[0];
    const decision = decideFailure(probe, cause, lease, finishedAt.getTime(), this.logger);
    const error = toJobError(cause);
    const outcome: AttemptedJob['outcome'] =
      decision.kind === 'retry' ? { kind: 'retry', error, runAt: decision.runAt } : { kind: 'failed', error };
    try {
      const [id] = await this.store.insertAttempted([this.entry(attempt, finishedAt, outcome)]);
      return outcome.kind === 'retry'
        ? new JobPersistedError(id, 'retry', outcome.runAt, cause)
        : new JobPersistedError(id, 'failed', null, cause);
    } catch (err) {
      return new JobNotPersistedError(cause, err);
    }
  }

  /** persistOnSuccess: the job stored `done` with attempt 1 and its return value. */
  private async persistDone(attempt: Attempt, value: unknown): Promise<void> {
    const finishedAt = this.clock.now();
    let result: string | null = null;
    try {
      result = serializeResult(value, attempt.job.id);
    } catch (err) {
      // The caller has the value already; the record keeps the run without it (said in the log).
      this.logger.warn(
        { err, jobId: attempt.job.id },
        'oddjob: the return value cannot be stored; done record without it',
      );
    }
    await this.store.insertAttempted([this.entry(attempt, finishedAt, { kind: 'done', result })]);
  }

  private entry(attempt: Attempt, finishedAt: Date, outcome: AttemptedJob['outcome']): AttemptedJob {
    const logs = attempt.log.take();
    return {
      job: attempt.job,
      startedAt: attempt.startedAt,
      finishedAt,
      owner: this.owner,
      host: this.host,
      outcome,
      ...(logs === undefined ? {} : { logs }),
    };
  }
}

/** One immediate attempt while it runs: the job, when it started, what it logged. */
interface Attempt {
  job: NewJob;
  startedAt: Date;
  log: RunLogBuffer;
}
