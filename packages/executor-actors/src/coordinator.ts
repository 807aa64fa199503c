import { toJobError, type ClaimedJob, type Clock, type JobError, type JobLogger } from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { ClaimLoop } from './claim-loop.js';
import { unreachable } from './unreachable.js';
import type { ExecutorEventHub } from './events.js';
import { HookRunner } from './hook-runner.js';
import { LeaseSweep } from './lease-sweep.js';
import { flushLogs } from './log-flush.js';
import type { CoordinatorMessage, LayerMessage, RunResult, WorkerMessage } from './messages.js';
import { OutcomeAnnouncer } from './outcome-announcer.js';
import { outcomeOf } from './outcome-policy.js';
import { OutcomeWrites } from './outcome-writes.js';
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
 * claim is out. At most one claim is out at a time (see claim-cycle.ts and claim-loop.ts); a wake-up
 * that arrives meanwhile just marks that another look is wanted.
 *
 * Backpressure. It claims only while `pending < maxPending` (default workers * 2) and asks for at most
 * the free room, so a busy executor never hoards jobs that another executor could be running.
 * Finished runs whose outcome is still being written hold their leases but do not count as pending:
 * counting them made every claim wait for the write before it (PostgreSQL race contender, 2026-12-02:
 * 25.2k → 21.3k jobs/s, medians of three 5-round runs each). So a killed executor may hold, and
 * lose to a re-run, more than maxPending jobs when its outcome writes lag.
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
  private readonly claims: ClaimLoop;
  private readonly runs = new Map<string, RunningJob>();
  private readonly capacity: number;
  private self!: ActorRef<CoordinatorMessage>;
  private layer!: ActorRef<LayerMessage>;
  private workers: ActorRef<WorkerMessage>[] = [];
  private events: ExecutorEventHub | null = null;
  /** `{ tenant }` spread into event payloads, or nothing for a single-store shell. */
  private tenantTag: { tenant?: string } = {};
  private nextWorker = 0;
  /** Outcomes on their way to storage; their runs keep their leases until the write is confirmed. */
  private outcomeWrites!: OutcomeWrites;
  private outcomeAnnouncer!: OutcomeAnnouncer;
  private readonly leases: LeaseSweep;
  private readonly hooks: HookRunner;
  private pulseTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private inbox!: ResultInbox;

  constructor(init: CoordinatorInit) {
    this.queue = init.queue;
    this.options = init.options;
    this.clock = init.clock;
    this.logger = init.logger;
    this.capacity = init.options.maxPending;
    this.claims = new ClaimLoop(init.options, init.clock, init.logger, init.queue);
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
    this.claims.attach(links.self, links.layer);
    this.outcomeWrites = new OutcomeWrites(links.self, links.layer, this.logger, this.queue);
    this.outcomeAnnouncer = new OutcomeAnnouncer(
      this,
      this.hooks,
      this.events,
      this.tenantTag,
      this.logger,
      this.queue,
      this.clock,
    );
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
    this.claims.closeNow();
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
        this.claims.retryDue();
        this.maybeClaim(false);
        return;
      case 'fetched':
        this.onClaimed(msg.jobs, msg.asked, msg.askedAt);
        return;
      case 'fetch-failed':
        this.onClaimFailed(msg.error, msg.asked);
        return;
      case 'results':
        for (const { run, result } of this.inbox.take()) this.onResultGuarded(run, result);
        this.outcomeWrites.send();
        if (this.life.kind === 'running') this.maybeClaim(false);
        else this.checkDrained();
        return;
      case 'recorded':
        this.outcomeWrites.recorded(msg.writes, (run, outcome) => this.outcomeAnnouncer.stored(run, outcome));
        if (this.life.kind !== 'running') this.checkDrained();
        return;
      case 'sweep': {
        if (this.runs.size === 0 && this.outcomeWrites.inFlight === 0) return;
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
        flushLogs(this.runs.values(), this.layer);
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

  private maybeClaim(fromPulse: boolean): void {
    if (this.life.kind !== 'running') return;
    const asked = this.claims.tryAsk(this.runs.size, this.workers.length, this.capacity);
    if (asked === 'full' && fromPulse)
      this.hooks.call('onSaturated', () =>
        this.onSaturated({ queue: this.queue, pending: this.runs.size, capacity: this.capacity }),
      );
  }

  private onClaimed(jobs: readonly ClaimedJob[], asked: number, claimedAt: number): void {
    const open = this.life.kind === 'running';
    this.claims.answered(jobs.length, asked, open);
    const leaseMs = this.options.leaseMs;
    // One message per worker per claim, carrying that worker's share in order: the same round-robin
    // assignment as one message per job, with far fewer messages (see worker.ts).
    const shares: RunningJob[][] = this.workers.map(() => []);
    for (const job of jobs) {
      if (!open) {
        // Claimed just as we began to stop: give it straight back, attempt not counted.
        const run = new RunningJob(job, -1, claimedAt, leaseMs);
        run.state = 'finished';
        this.outcomeWrites.add(run, { kind: 'released', lease: run.lease });
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
    this.outcomeWrites.send();
    if (open) this.maybeClaim(false);
    else this.checkDrained();
  }

  private onClaimFailed(error: unknown, asked: number): void {
    if (this.life.kind !== 'running') {
      this.claims.failedWhileClosing(asked);
      this.checkDrained();
      return;
    }
    const failure = this.claims.failed(error, asked);
    if (failure === null) return; // transient: the claim loop backs off
    const { operation } = failure;
    this.life = { kind: 'failed' };
    this.failedWith = failure;
    this.logger.error(
      { err: error, queue: this.queue, operation },
      `oddjob: claiming jobs failed with a permanent storage error (operation "${operation}"); the queue stops claiming`,
    );
    this.events?.emit('queue:failed', { queue: this.queue, ...this.tenantTag, operation, error });
  }

  /**
   * One bad result must never stop the rest of its batch from being recorded: a result that cannot be
   * turned into an outcome fails its job with a plain error instead of leaving it (and the results
   * after it) in the in-flight map, where the sweep would renew their leases forever.
   */
  private onResultGuarded(run: RunningJob, result: RunResult): void {
    const before = this.outcomeWrites.queued;
    try {
      this.runs.delete(run.job.id);
      const decided = outcomeOf(run, result, this.clock, this.logger, this.queue);
      if (decided !== null) this.outcomeWrites.add(run, decided);
    } catch (err) {
      this.runs.delete(run.job.id);
      const cause = toJobError(err).message;
      this.logger.error(
        { jobId: run.job.id, queue: this.queue, cause },
        'oddjob: deciding a job outcome failed; failing the job',
      );
      if (this.outcomeWrites.queued === before) {
        this.outcomeWrites.add(run, {
          kind: 'failed',
          lease: run.lease,
          error: { name: 'OutcomeError', message: `the job's result could not be recorded: ${cause}` },
        });
      }
    }
  }

  /** Every run this executor holds a lease for: in the in-flight map, or finished with its outcome unwritten. */
  private *leaseHolders(): Iterable<RunningJob> {
    yield* this.runs.values();
    yield* this.outcomeWrites.runs();
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
    if (this.runs.size > 0 || this.outcomeWrites.inFlight > 0 || this.claims.claiming) return;
    const done = life.done;
    this.life = { kind: 'draining', done: null };
    done();
  }
}
