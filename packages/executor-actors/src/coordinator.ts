import {
  CorruptJobError,
  JobAbortError,
  UnknownJobMethodError,
  UnknownJobTargetError,
  retryDelayMs,
  toJobError,
  validateRetryPolicy,
  type ClaimedJob,
  type Clock,
  type JobError,
  type JobLogger,
  type JobOutcome,
} from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { Backoff } from './backoff.js';
import type { CoordinatorMessage, LayerMessage, PendingWrite, RecordedWrite, RunResult, WorkerMessage } from './messages.js';
import { ResultInbox } from './result-inbox.js';
import type { ResolvedQueueOptions } from './options.js';
import { RunningJob } from './running-job.js';

/**
 * A coordinator's life:
 *   running ──drain──▶ draining ──nothing in flight──▶ (drained; the shell stops the actors) stopped
 */
export type CoordinatorState =
  /** Fetching and dispatching jobs. */
  | 'running'
  /** Stopping: no more fetches; waits for runs and their writes, releasing what it can. */
  | 'draining'
  /** Its actors are stopped; it receives nothing more. */
  | 'stopped';

/** What the shell hands a coordinator's constructor. Subclasses pass it on to `super(init)`. */
export interface CoordinatorInit {
  queue: string;
  options: ResolvedQueueOptions;
  clock: Clock;
  logger: JobLogger;
}

/** Passed to `onSaturated`. */
export interface SaturationInfo {
  queue: string;
  /** Jobs handed to workers and not finished yet. */
  pending: number;
  /** options.maxPending (default workers * 2): the most this coordinator holds at once. */
  capacity: number;
}

/** The class the shell instantiates per queue; pass a subclass to the shell to override the hooks. */
export type CoordinatorClass = new (init: CoordinatorInit) => JobQueueCoordinator;

/** Errors retrying cannot help with: the job goes straight to `failed`. Matched by name as well, so a
 * second copy of core in node_modules does not defeat `instanceof`. */
const NEVER_RETRIED = new Set(['JobAbortError', 'UnknownJobTargetError', 'UnknownJobMethodError', 'CorruptJobError']);
const MISSING_TARGET = new Set(['UnknownJobTargetError', 'UnknownJobMethodError']);

function neverRetried(error: unknown): boolean {
  if (
    error instanceof JobAbortError ||
    error instanceof UnknownJobTargetError ||
    error instanceof UnknownJobMethodError ||
    error instanceof CorruptJobError
  ) {
    return true;
  }
  return error instanceof Error && NEVER_RETRIED.has(error.name);
}

/**
 * One per queue. It decides what to fetch, hands jobs to its workers round-robin, turns results into
 * outcomes, and calls the hooks once storage confirmed an outcome.
 *
 * Concurrency. The coordinator runs inside its actor, one message at a time, and never awaits: a
 * claim or a write is a message to the queue layer, and the answer is another message. So its
 * fields need no locks, a slow database never blocks its mailbox, and results keep flowing while a
 * claim is out. At most one claim is in flight (`fetchInFlight`); a wake-up that arrives meanwhile
 * just marks that another look is wanted.
 *
 * Backpressure. It claims only while `pending < maxPending` (default workers * 2) and asks for at most
 * the free room, so a
 * busy executor never hoards jobs that another executor could be running.
 *
 * Hooks (`onJobSuccess`, `onJobFailed`, `onJobRetry`, `onMissingTarget`, `onSaturated`) are called in
 * the order the outcomes were written, after storage answered 'ok'. They are not awaited by the actor:
 * an async hook runs alongside, its rejection is logged, and shutdown waits for it. A throwing hook is
 * logged and never affects the job or the executor.
 */
export class JobQueueCoordinator implements Behaviour<CoordinatorMessage> {
  readonly queue: string;
  protected readonly options: ResolvedQueueOptions;
  protected readonly clock: Clock;
  protected readonly logger: JobLogger;
  private coordinatorState: CoordinatorState = 'running';
  private readonly runs = new Map<string, RunningJob>();
  private readonly capacity: number;
  private self!: ActorRef<CoordinatorMessage>;
  private layer!: ActorRef<LayerMessage>;
  private workers: ActorRef<WorkerMessage>[] = [];
  private nextWorker = 0;
  private fetchInFlight = false;
  /** The last claim came back short: the queue looks empty until a pulse or a wake-up says otherwise. */
  private looksEmpty = false;
  /** A wake-up arrived while a claim was in flight: look again when it returns. */
  private lookAgain = false;
  private extendInFlight = false;
  private writesInFlight = 0;
  private readonly fetchBackoff = new Backoff();
  private fetchRetryTimer: NodeJS.Timeout | null = null;
  private pulseTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private onDrained: (() => void) | null = null;
  private readonly hooksInFlight = new Set<Promise<unknown>>();
  /** Outcomes decided during the current message, sent to the layer as one 'record' at its end. */
  private outbox: PendingWrite[] = [];
  private inbox!: ResultInbox;

  constructor(init: CoordinatorInit) {
    this.queue = init.queue;
    this.options = init.options;
    this.clock = init.clock;
    this.logger = init.logger;
    this.capacity = init.options.maxPending;
  }

  get state(): CoordinatorState {
    return this.coordinatorState;
  }

  /** Jobs handed to workers and not finished yet. */
  get pending(): number {
    return this.runs.size;
  }

  // ---- hooks: override in a subclass ----

  /** The job's `done` outcome was written. */
  onJobSuccess(_job: ClaimedJob): void | Promise<void> {}

  /** The job's `failed` outcome was written: no attempt left, a never-retried error, or a timeout on the last attempt. */
  onJobFailed(_job: ClaimedJob, _error: JobError): void | Promise<void> {}

  /** The job's `retry` outcome was written: it is claimable again from `runAt`. */
  onJobRetry(_job: ClaimedJob, _error: JobError, _runAt: Date): void | Promise<void> {}

  /** On a pulse, the coordinator wanted to look for work but already holds `capacity` jobs. */
  onSaturated(_info: SaturationInfo): void | Promise<void> {}

  /**
   * The job named a target or method this executor does not know; its `failed` outcome was written.
   * Called before `onJobFailed` (which runs for it too).
   */
  onMissingTarget(_job: ClaimedJob, _error: JobError): void | Promise<void> {}

  // ---- wiring, called by the shell ----

  /** @internal Called once by the shell after spawning the actors, before any message. */
  attach(links: { self: ActorRef<CoordinatorMessage>; layer: ActorRef<LayerMessage>; workers: ActorRef<WorkerMessage>[] }): void {
    this.self = links.self;
    this.inbox = new ResultInbox(links.self);
    this.layer = links.layer;
    this.workers = links.workers;
  }

  /** @internal The inbox the queue's workers post results to. */
  get results(): ResultInbox {
    return this.inbox;
  }

  /** @internal Starts the pulse and sweep timers and looks for work at once. */
  start(): void {
    this.pulseTimer = setInterval(() => this.self.tell({ kind: 'pulse' }), this.options.pulseMs);
    this.sweepTimer = setInterval(() => this.self.tell({ kind: 'sweep' }), this.options.sweepMs);
    this.self.tell({ kind: 'pulse' });
  }

  /** @internal Clears every timer; called when the queue's actors are being stopped. */
  stop(): void {
    this.coordinatorState = 'stopped';
    for (const t of [this.pulseTimer, this.sweepTimer]) if (t !== null) clearInterval(t);
    if (this.fetchRetryTimer !== null) clearTimeout(this.fetchRetryTimer);
    this.pulseTimer = this.sweepTimer = this.fetchRetryTimer = null;
  }

  /** @internal Resolves when every hook called so far has settled. */
  async settleHooks(): Promise<void> {
    while (this.hooksInFlight.size > 0) await Promise.allSettled([...this.hooksInFlight]);
  }

  /** @internal Runs still in flight, for shutdown's report. */
  unfinished(): string[] {
    return [...this.runs.keys()];
  }

  // ---- the actor ----

  receive(msg: CoordinatorMessage): void {
    switch (msg.kind) {
      case 'pulse':
        this.looksEmpty = false;
        this.maybeFetch(true);
        return;
      case 'nudge':
        this.looksEmpty = false;
        if (this.fetchInFlight) this.lookAgain = true;
        else this.maybeFetch(false);
        return;
      case 'retry-fetch':
        this.fetchRetryTimer = null;
        this.looksEmpty = false;
        this.maybeFetch(false);
        return;
      case 'fetched':
        this.onFetched(msg.jobs, msg.asked);
        return;
      case 'fetch-failed':
        this.onFetchFailed(msg.error);
        return;
      case 'results': {
        for (const { run, result } of this.inbox.take()) this.onResult(run, result);
        this.sendWrites();
        if (this.coordinatorState === 'running') this.maybeFetch(false);
        else this.checkDrained();
        return;
      }
      case 'recorded':
        this.onRecorded(msg.writes);
        return;
      case 'sweep':
        this.sweep();
        return;
      case 'extended':
        this.onExtended(msg.runs, msg.checks, msg.at);
        return;
      case 'extend-failed':
        this.extendInFlight = false;
        this.logger.warn({ err: msg.error, queue: this.queue }, 'oddjob: renewing leases failed; the next sweep tries again');
        return;
      case 'drain':
        this.drain(msg.done);
        return;
      case 'abort-all':
        for (const run of this.runs.values()) run.abort('shutdown');
        return;
    }
  }

  private maybeFetch(fromPulse: boolean): void {
    if (this.coordinatorState !== 'running' || this.fetchInFlight || this.fetchRetryTimer !== null) return;
    const room = this.capacity - this.runs.size;
    if (room <= 0) {
      if (fromPulse) this.callHook('onSaturated', () => this.onSaturated({ queue: this.queue, pending: this.runs.size, capacity: this.capacity }));
      return;
    }
    if (this.looksEmpty) return;
    // Claim in worthwhile batches. A claim costs a round trip plus a fixed statement overhead (a
    // third of a 500-job claim on PostgreSQL), so while more jobs are held than there are workers —
    // the workers have their next job in hand — wait until at least half the capacity is free
    // instead of topping up a few jobs at a time. Measured with maxPending 500 on PostgreSQL: claims
    // averaged 233 jobs without this rule. With the default capacity (workers * 2) it means: claim
    // when no more than `workers` jobs are held.
    if (this.runs.size > this.workers.length && room < Math.ceil(this.capacity / 2)) return;
    this.fetchInFlight = true;
    this.lookAgain = false;
    this.layer.tell({
      kind: 'fetch',
      request: { queues: [this.queue], limit: room, owner: this.options.owner, leaseMs: this.options.leaseMs },
      replyTo: this.self,
    });
  }

  private onFetched(jobs: readonly ClaimedJob[], asked: number): void {
    this.fetchInFlight = false;
    this.fetchBackoff.reset();
    const claimedAt = this.clock.now().getTime();
    // One message per worker per claim, carrying that worker's share in order: the same round-robin
    // assignment as one message per job, with far fewer messages (see worker.ts).
    const shares: RunningJob[][] = this.workers.map(() => []);
    for (const job of jobs) {
      if (this.coordinatorState !== 'running') {
        // Claimed just as we began to stop: give it straight back, attempt not counted.
        const run = new RunningJob(job, -1, claimedAt);
        run.state = 'finished';
        this.write(run, { kind: 'released', lease: run.lease });
        continue;
      }
      const worker = this.nextWorker;
      this.nextWorker = worker + 1 === this.workers.length ? 0 : worker + 1;
      const run = new RunningJob(job, worker, claimedAt);
      this.runs.set(job.id, run);
      shares[worker]!.push(run);
    }
    shares.forEach((runs, worker) => {
      if (runs.length > 0) this.workers[worker]!.tell({ kind: 'run', runs });
    });
    this.sendWrites();
    if (this.coordinatorState !== 'running') {
      this.checkDrained();
      return;
    }
    // A short answer means the queue is (for now) empty: stop asking after every result until a
    // pulse or a wake-up. A full answer means there is likely more: ask again while there is room.
    this.looksEmpty = jobs.length < asked && !this.lookAgain;
    this.maybeFetch(false);
  }

  private onFetchFailed(error: unknown): void {
    this.fetchInFlight = false;
    if (this.coordinatorState !== 'running') {
      this.checkDrained();
      return;
    }
    const delay = this.fetchBackoff.next();
    this.logger.error({ err: error, queue: this.queue, retryInMs: delay }, 'oddjob: claiming jobs failed; backing off');
    this.fetchRetryTimer = setTimeout(() => this.self.tell({ kind: 'retry-fetch' }), delay);
  }

  private onResult(run: RunningJob, result: RunResult): void {
    this.runs.delete(run.job.id);
    const job = run.job;
    if (run.abortReason === 'lease-lost') {
      this.logger.warn({ jobId: job.id, queue: this.queue }, 'oddjob: lease lost while the job ran; its result is dropped');
    } else if (result.kind === 'succeeded') {
      this.write(run, { kind: 'done', lease: run.lease });
    } else if (result.kind === 'skipped' || run.abortReason === 'shutdown') {
      this.write(run, { kind: 'released', lease: run.lease });
    } else {
      const cause = run.abortReason === 'timeout' ? run.abortedWith! : result.error;
      this.write(run, this.decideFailure(job, cause, run));
    }
  }

  /** Retry or fail, from the job's own retry policy. */
  private decideFailure(job: ClaimedJob, cause: unknown, run: RunningJob): JobOutcome {
    const error = toJobError(cause);
    if (neverRetried(cause)) return { kind: 'failed', lease: run.lease, error };
    let delay: number | null;
    try {
      delay = retryDelayMs(validateRetryPolicy(job.retry), job.attempts);
    } catch (err) {
      // A stored policy that does not validate cannot schedule a retry; fail with both reasons.
      this.logger.error({ err, jobId: job.id }, 'oddjob: the job has an invalid retry policy; failing it');
      return { kind: 'failed', lease: run.lease, error: { ...error, message: `${error.message} (and its retry policy is invalid: ${(err as Error).message})` } };
    }
    if (delay === null) return { kind: 'failed', lease: run.lease, error };
    return { kind: 'retry', lease: run.lease, error, runAt: new Date(this.clock.now().getTime() + delay) };
  }

  private write(run: RunningJob, outcome: JobOutcome): void {
    this.writesInFlight++;
    this.outbox.push({ run, outcome, replyTo: this.self });
  }

  private sendWrites(): void {
    if (this.outbox.length === 0) return;
    const writes = this.outbox;
    this.outbox = [];
    this.layer.tell({ kind: 'record', writes });
  }

  private onRecorded(writes: RecordedWrite[]): void {
    this.writesInFlight -= writes.length;
    for (const { run, outcome, check } of writes) {
      const job = run.job;
      if (check !== 'ok') {
        this.logger.warn(
          { jobId: job.id, queue: this.queue, outcome: outcome.kind },
          'oddjob: outcome refused, the lease was lost (expired, taken over or cancelled); another executor may run the job',
        );
        continue;
      }
      switch (outcome.kind) {
        case 'done':
          this.callHook('onJobSuccess', () => this.onJobSuccess(job));
          break;
        case 'retry':
          this.callHook('onJobRetry', () => this.onJobRetry(job, outcome.error, outcome.runAt));
          break;
        case 'failed':
          if (MISSING_TARGET.has(outcome.error.name)) this.callHook('onMissingTarget', () => this.onMissingTarget(job, outcome.error));
          this.callHook('onJobFailed', () => this.onJobFailed(job, outcome.error));
          break;
        case 'released':
          this.logger.info({ jobId: job.id, queue: this.queue }, 'oddjob: job released for another executor');
          break;
      }
    }
    if (this.coordinatorState !== 'running') this.checkDrained();
  }

  private sweep(): void {
    if (this.runs.size === 0) return;
    const now = this.clock.now().getTime();
    const renewAfter = this.options.leaseMs / 3;
    const toRenew: RunningJob[] = [];
    for (const run of this.runs.values()) {
      if (run.state === 'running' && run.abortReason === null && now - run.startedAt >= this.options.jobTimeoutMs) {
        this.logger.warn({ jobId: run.job.id, queue: this.queue, timeoutMs: this.options.jobTimeoutMs }, 'oddjob: job timed out; aborting it');
        run.abort('timeout', this.options.jobTimeoutMs);
      }
      if (run.abortReason !== 'lease-lost' && now - run.leaseRenewedAt >= renewAfter) toRenew.push(run);
    }
    if (toRenew.length > 0 && !this.extendInFlight) {
      this.extendInFlight = true;
      this.layer.tell({ kind: 'extend', runs: toRenew, leaseMs: this.options.leaseMs, at: now, replyTo: this.self });
    }
  }

  private onExtended(runs: RunningJob[], checks: readonly string[], at: number): void {
    this.extendInFlight = false;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (checks[i] === 'ok') {
        run.leaseRenewedAt = at;
      } else if (run.state !== 'finished') {
        this.logger.warn({ jobId: run.job.id, queue: this.queue }, 'oddjob: lease renewal refused; aborting the run and dropping its result');
        run.abort('lease-lost');
      }
    }
  }

  private drain(done: () => void): void {
    this.coordinatorState = 'draining';
    this.onDrained = done;
    if (this.fetchRetryTimer !== null) clearTimeout(this.fetchRetryTimer);
    this.fetchRetryTimer = null;
    // Jobs still waiting in a worker's mailbox are released now rather than started: another
    // executor can run them at once.
    for (const run of this.runs.values()) if (run.state === 'queued') run.abort('shutdown');
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.onDrained === null || this.runs.size > 0 || this.writesInFlight > 0 || this.fetchInFlight) return;
    const done = this.onDrained;
    this.onDrained = null;
    done();
  }

  private callHook(name: string, hook: () => void | Promise<void>): void {
    try {
      const result = hook();
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        const tracked = Promise.resolve(result).then(
          () => undefined,
          (err: unknown) => this.logger.error({ err, hook: name, queue: this.queue }, 'oddjob: a coordinator hook rejected'),
        );
        this.hooksInFlight.add(tracked);
        void tracked.finally(() => this.hooksInFlight.delete(tracked));
      }
    } catch (err) {
      this.logger.error({ err, hook: name, queue: this.queue }, 'oddjob: a coordinator hook threw');
    }
  }
}
