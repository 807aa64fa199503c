import {
  isTransientStorageFailure,
  StorageError,
  toJobError,
  type ClaimedJob,
  type Clock,
  type JobError,
  type JobLogger,
  type JobOutcome,
  type LogAppend,
} from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { Backoff } from './backoff.js';
import { ClaimCycle } from './claim-cycle.js';
import { unreachable } from './unreachable.js';
import type { ExecutorEventHub } from './events.js';
import { HookRunner } from './hook-runner.js';
import { LeaseSweep } from './lease-sweep.js';
import type {
  CoordinatorMessage,
  LayerMessage,
  PendingWrite,
  RecordedWrite,
  RunResult,
  WorkerMessage,
} from './messages.js';
import { decideFailure, MISSING_TARGET } from './outcome-policy.js';
import type { ResolvedQueueOptions } from './options.js';
import { ResultInbox } from './result-inbox.js';
import type {
  CoordinatorInit,
  CoordinatorState,
  Lifecycle,
  QueueFailure,
  SaturationInfo,
} from './coordinator-types.js';
import { RunningJob } from './running-job.js';

export type { CoordinatorInit, CoordinatorState, QueueFailure, SaturationInfo } from './coordinator-types.js';

/** The class the shell instantiates per queue; pass a subclass to the shell to override the hooks. */
export type CoordinatorClass = new (init: CoordinatorInit) => JobQueueCoordinator;

/**
 * One per queue. It decides what to claim, hands jobs to its workers round-robin, turns results into
 * outcomes, and calls the hooks once storage confirmed an outcome.
 *
 * Concurrency. The coordinator runs inside its actor, one message at a time, and never awaits: a
 * claim or a write is a message to the queue layer, and the answer is another message. So its
 * fields need no locks, a slow database never blocks its mailbox, and results keep flowing while a
 * claim is out. At most one claim is out at a time (see claim-cycle.ts); a wake-up that arrives
 * meanwhile just marks that another look is wanted.
 *
 * Backpressure. It claims only while `pending < maxPending` (default workers * 2) and asks for at most
 * the free room, so a busy executor never hoards jobs that another executor could be running.
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
  private life: Lifecycle = { kind: 'running' };
  private failedWith: QueueFailure | null = null;
  private readonly claims = new ClaimCycle();
  private readonly runs = new Map<string, RunningJob>();
  private readonly capacity: number;
  private self!: ActorRef<CoordinatorMessage>;
  private layer!: ActorRef<LayerMessage>;
  private workers: ActorRef<WorkerMessage>[] = [];
  private events: ExecutorEventHub | null = null;
  /** `{ tenant }` spread into event payloads, or nothing for a single-store shell. */
  private tenantTag: { tenant?: string } = {};
  private nextWorker = 0;
  /**
   * Finished runs whose outcome is with the queue layer, not yet stored (a run has one outcome, so this
   * is also the count of writes in flight that a drain waits for). Their leases are renewed like
   * those of running jobs: during an outage the write is retried, and if the lease lapsed meanwhile the
   * job would be claimed and run again although its outcome is only waiting to be written.
   */
  private readonly awaitingWrite = new Set<RunningJob>();
  private readonly claimBackoff = new Backoff();
  private readonly leases: LeaseSweep;
  private readonly hooks: HookRunner;
  private pulseTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Outcomes decided during the current message, sent to the layer as one 'record' at its end. */
  private outbox: PendingWrite[] = [];
  private inbox!: ResultInbox;

  constructor(init: CoordinatorInit) {
    this.queue = init.queue;
    this.options = init.options;
    this.clock = init.clock;
    this.logger = init.logger;
    this.capacity = init.options.maxPending;
    this.leases = new LeaseSweep(init.options, init.logger, init.queue);
    this.hooks = new HookRunner(init.logger, init.queue);
  }

  get state(): CoordinatorState {
    return this.life.kind;
  }

  /** The permanent storage error that put the queue in the `failed` state, or null. */
  get failure(): QueueFailure | null {
    return this.failedWith;
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
  attach(links: {
    self: ActorRef<CoordinatorMessage>;
    layer: ActorRef<LayerMessage>;
    workers: ActorRef<WorkerMessage>[];
    events?: ExecutorEventHub;
    /** The tenant (store name) this queue belongs to, told in events. */
    tenant?: string;
  }): void {
    this.tenantTag = links.tenant === undefined ? {} : { tenant: links.tenant };
    this.self = links.self;
    this.inbox = new ResultInbox(links.self);
    this.layer = links.layer;
    this.workers = links.workers;
    this.events = links.events ?? null;
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
    this.life = { kind: 'stopped' };
    for (const t of [this.pulseTimer, this.sweepTimer]) if (t !== null) clearInterval(t);
    this.pulseTimer = this.sweepTimer = null;
    this.claims.to({ kind: 'closed' });
  }

  /** @internal Resolves when every hook called so far has settled. */
  settleHooks(): Promise<void> {
    return this.hooks.settle();
  }

  /** @internal Runs still in flight, for shutdown's report. */
  unfinished(): string[] {
    return [...this.runs.keys()];
  }

  // ---- the actor ----

  receive(msg: CoordinatorMessage): void {
    switch (msg.kind) {
      case 'pulse':
        this.claims.mayHaveWork();
        this.maybeClaim(true);
        return;
      case 'nudge':
        this.claims.mayHaveWork();
        this.maybeClaim(false);
        return;
      case 'retry-fetch':
        if (this.claims.phase.kind === 'backing-off') this.claims.to({ kind: 'idle', looksEmpty: false });
        this.maybeClaim(false);
        return;
      case 'fetched':
        this.onClaimed(msg.jobs, msg.asked);
        return;
      case 'fetch-failed':
        this.onClaimFailed(msg.error);
        return;
      case 'results':
        for (const { run, result } of this.inbox.take()) this.onResultGuarded(run, result);
        this.sendWrites();
        if (this.life.kind === 'running') this.maybeClaim(false);
        else this.checkDrained();
        return;
      case 'recorded':
        this.onRecorded(msg.writes);
        return;
      case 'sweep': {
        if (this.runs.size === 0 && this.awaitingWrite.size === 0) return;
        const now = this.clock.now().getTime();
        const toRenew = this.leases.sweep(this.leaseHolders(), now);
        if (toRenew !== null)
          this.layer.tell({
            kind: 'extend',
            runs: toRenew,
            leaseMs: this.options.leaseMs,
            at: now,
            replyTo: this.self,
          });
        this.flushLogs();
        return;
      }
      case 'extended':
        this.leases.extended(msg.runs, msg.checks, msg.at);
        return;
      case 'extend-failed':
        this.leases.extendFailed(msg.error);
        return;
      case 'drain':
        this.drain(msg.done);
        return;
      case 'abort-all':
        for (const run of this.runs.values()) run.abort('shutdown');
        return;
      default:
        return unreachable(msg);
    }
  }

  /**
   * Writes the log lines running jobs wrote since the last sweep, so other processes can read them
   * while the jobs run. A failed write gives the lines back to their runs (the next sweep or the
   * outcome carries them).
   */
  private flushLogs(): void {
    let entries: LogAppend[] | undefined;
    // The very runs the lines came from: a later claim of the same job is another run (attempt).
    const byJob = new Map<string, RunningJob>();
    for (const run of this.runs.values()) {
      if (!run.hasPendingLogs || run.abortReason === 'lease-lost') continue;
      const lines = run.takeLogs()!;
      (entries ??= []).push({ lease: run.lease, lines });
      byJob.set(run.job.id, run);
    }
    if (entries === undefined) return;
    this.layer.tell({
      kind: 'logs',
      entries,
      failed: (back) => {
        for (const e of back) byJob.get(e.lease.jobId)?.putBackLogs(e.lines);
      },
    });
  }

  private maybeClaim(fromPulse: boolean): void {
    const phase = this.claims.phase;
    if (this.life.kind !== 'running' || phase.kind !== 'idle') return;
    const room = this.capacity - this.runs.size;
    if (room <= 0) {
      if (fromPulse)
        this.hooks.call('onSaturated', () =>
          this.onSaturated({ queue: this.queue, pending: this.runs.size, capacity: this.capacity }),
        );
      return;
    }
    if (phase.looksEmpty) return;
    // Claim in worthwhile batches. A claim costs a round trip plus a fixed statement overhead (a
    // third of a 500-job claim on PostgreSQL), so while more jobs are held than there are workers —
    // the workers have their next job in hand — wait until at least half the capacity is free
    // instead of topping up a few jobs at a time. Measured with maxPending 500 on PostgreSQL: claims
    // averaged 233 jobs without this rule. With the default capacity (workers * 2) it means: claim
    // when no more than `workers` jobs are held.
    if (this.runs.size > this.workers.length && room < Math.ceil(this.capacity / 2)) return;
    this.claims.to({ kind: 'claiming', askedAt: this.clock.now().getTime(), lookAgain: false });
    this.layer.tell({
      kind: 'fetch',
      request: {
        queues: [this.queue],
        limit: room,
        owner: this.options.owner,
        leaseMs: this.options.leaseMs,
        host: this.options.host,
        takeoverAfterMs: this.options.takeoverAfterMs,
      },
      replyTo: this.self,
    });
  }

  private onClaimed(jobs: readonly ClaimedJob[], asked: number): void {
    const phase = this.claims.phase;
    if (phase.kind !== 'claiming') throw new Error(`oddjob: a claim answer arrived in claim phase ${phase.kind}`);
    this.claimBackoff.reset();
    const open = this.life.kind === 'running';
    // A short answer means the queue is (for now) empty: stop asking after every result until a
    // pulse or a wake-up. A full answer means there is likely more: ask again while there is room.
    this.claims.to(open ? { kind: 'idle', looksEmpty: jobs.length < asked && !phase.lookAgain } : { kind: 'closed' });
    // Leases count from when the claim was asked, so the executor's view never outlasts the store's.
    const claimedAt = phase.askedAt;
    const leaseMs = this.options.leaseMs;
    // One message per worker per claim, carrying that worker's share in order: the same round-robin
    // assignment as one message per job, with far fewer messages (see worker.ts).
    const shares: RunningJob[][] = this.workers.map(() => []);
    for (const job of jobs) {
      if (!open) {
        // Claimed just as we began to stop: give it straight back, attempt not counted.
        const run = new RunningJob(job, -1, claimedAt, leaseMs);
        run.state = 'finished';
        this.write(run, { kind: 'released', lease: run.lease });
        continue;
      }
      const worker = this.nextWorker;
      this.nextWorker = worker + 1 === this.workers.length ? 0 : worker + 1;
      const run = new RunningJob(job, worker, claimedAt, leaseMs);
      this.runs.set(job.id, run);
      shares[worker].push(run);
    }
    shares.forEach((runs, worker) => {
      if (runs.length > 0) this.workers[worker].tell({ kind: 'run', runs });
    });
    this.sendWrites();
    if (open) this.maybeClaim(false);
    else this.checkDrained();
  }

  private onClaimFailed(error: unknown): void {
    if (this.life.kind !== 'running') {
      this.claims.to({ kind: 'closed' });
      this.checkDrained();
      return;
    }
    if (!isTransientStorageFailure(error)) {
      // A broken statement, a missing table, a permission: it would fail the same way forever, so
      // say so once, loudly, instead of backing off in silence.
      const operation = error instanceof StorageError ? error.operation : 'claim';
      this.claims.to({ kind: 'failed' });
      this.life = { kind: 'failed' };
      this.failedWith = { operation, error };
      this.logger.error(
        { err: error, queue: this.queue, operation },
        `oddjob: claiming jobs failed with a permanent storage error (operation "${operation}"); the queue stops claiming`,
      );
      this.events?.emit('queue:failed', { queue: this.queue, ...this.tenantTag, operation, error });
      return;
    }
    const delay = this.claimBackoff.next();
    this.logger.error({ err: error, queue: this.queue, retryInMs: delay }, 'oddjob: claiming jobs failed; backing off');
    this.claims.to({ kind: 'backing-off', timer: setTimeout(() => this.self.tell({ kind: 'retry-fetch' }), delay) });
  }

  /**
   * One bad result must never stop the rest of its batch from being recorded: a result that cannot be
   * turned into an outcome fails its job with a plain error instead of leaving it (and the results
   * after it) in the in-flight map, where the sweep would renew their leases forever.
   */
  private onResultGuarded(run: RunningJob, result: RunResult): void {
    const before = this.outbox.length;
    try {
      this.onResult(run, result);
    } catch (err) {
      this.runs.delete(run.job.id);
      const cause = toJobError(err).message;
      this.logger.error(
        { jobId: run.job.id, queue: this.queue, cause },
        'oddjob: deciding a job outcome failed; failing the job',
      );
      if (this.outbox.length === before) {
        this.write(run, {
          kind: 'failed',
          lease: run.lease,
          error: { name: 'OutcomeError', message: `the job's result could not be recorded: ${cause}` },
        });
      }
    }
  }

  private onResult(run: RunningJob, result: RunResult): void {
    this.runs.delete(run.job.id);
    const job = run.job;
    if (run.abortReason === 'lease-lost') {
      this.logger.warn(
        { jobId: job.id, queue: this.queue },
        'oddjob: lease lost while the job ran; its result is dropped',
      );
    } else if (result.kind === 'succeeded') {
      this.write(run, { kind: 'done', lease: run.lease, result: result.result });
    } else if (result.kind === 'skipped' || run.abortReason === 'shutdown') {
      this.write(run, { kind: 'released', lease: run.lease });
    } else {
      const cause = run.abortReason === 'timeout' ? run.abortedWith! : result.error;
      this.write(run, decideFailure(job, cause, run.lease, this.clock.now().getTime(), this.logger));
    }
  }

  private write(run: RunningJob, decided: JobOutcome): void {
    // The run's last log lines go out with its outcome, in the same store write.
    const logs = run.takeLogs();
    const outcome = logs === undefined ? decided : { ...decided, logs };
    this.awaitingWrite.add(run);
    this.outbox.push({ run, outcome, replyTo: this.self });
  }

  /** Every run this executor holds a lease for: in the in-flight map, or finished with its outcome unwritten. */
  private *leaseHolders(): Iterable<RunningJob> {
    yield* this.runs.values();
    yield* this.awaitingWrite;
  }

  private sendWrites(): void {
    if (this.outbox.length === 0) return;
    const writes = this.outbox;
    this.outbox = [];
    this.layer.tell({ kind: 'record', writes });
  }

  private onRecorded(writes: RecordedWrite[]): void {
    for (const { run, outcome, check } of writes) {
      this.awaitingWrite.delete(run);
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
          this.hooks.call('onJobSuccess', () => this.onJobSuccess(job));
          // The hot event: its payload is built only for listeners, as one literal (no spread).
          if (this.events?.has('job:succeeded')) {
            const tenant = this.tenantTag.tenant;
            this.events.emit(
              'job:succeeded',
              tenant === undefined ? { queue: this.queue, job } : { queue: this.queue, tenant, job },
            );
          }
          break;
        case 'retry':
          this.hooks.call('onJobRetry', () => this.onJobRetry(job, outcome.error, outcome.runAt));
          this.events?.emit('job:retry', {
            queue: this.queue,
            ...this.tenantTag,
            job,
            error: outcome.error,
            runAt: outcome.runAt,
          });
          break;
        case 'failed':
          if (MISSING_TARGET.has(outcome.error.name))
            this.hooks.call('onMissingTarget', () => this.onMissingTarget(job, outcome.error));
          this.hooks.call('onJobFailed', () => this.onJobFailed(job, outcome.error));
          this.events?.emit('job:failed', { queue: this.queue, ...this.tenantTag, job, error: outcome.error });
          break;
        case 'released':
          this.logger.info({ jobId: job.id, queue: this.queue }, 'oddjob: job released for another executor');
          break;
        default:
          unreachable(outcome);
      }
    }
    if (this.life.kind !== 'running') this.checkDrained();
  }

  private drain(done: () => void): void {
    this.life = { kind: 'draining', done };
    this.claims.close();
    // Jobs still waiting in a worker's mailbox are released now rather than started: another
    // executor can run them at once.
    for (const run of this.runs.values()) if (run.state === 'queued') run.abort('shutdown');
    this.checkDrained();
  }

  private checkDrained(): void {
    const life = this.life;
    if (life.kind !== 'draining' || life.done === null) return;
    if (this.runs.size > 0 || this.awaitingWrite.size > 0 || this.claims.phase.kind === 'claiming') return;
    const done = life.done;
    this.life = { kind: 'draining', done: null };
    done();
  }
}
