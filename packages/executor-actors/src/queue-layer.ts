import type { IJobQueueManager, JobLogger, JobOutcome, LeaseCheck } from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { Backoff } from './backoff.js';
import { unreachable } from './unreachable.js';
import type { CoordinatorMessage, LayerMessage, PendingWrite, RecordedWrite } from './messages.js';

/** At most this many outcomes go into one recordOutcomes call (SQL statements have parameter limits). Internal. */
export const MAX_WRITE_BATCH = 500;

/**
 * The longest wait before an outcome write is tried again: a quarter of the shortest lease in the batch.
 * The plain backoff grows to 10 s, and an outcome waiting that long on a 3 s lease would see the job
 * claimed and run again; retried this often, a write gets several tries within every lease. The
 * coordinator renews these jobs' leases meanwhile. Internal.
 */
export function retryCeiling(batch: readonly PendingWrite[]): number {
  let shortest = Infinity;
  for (const w of batch) if (w.run.leaseMs < shortest) shortest = w.run.leaseMs;
  return Math.max(50, shortest / 4);
}

/**
 * The queue layer: the only actor that calls storage. One per shell, shared by its queues.
 *
 * It never awaits a storage call inside `receive`: each call is started, and its answer comes back as
 * a message (to this actor or straight to the asking coordinator). So a slow database never stops
 * the layer from taking in outcomes, and those outcomes pile up into the next batch: while one
 * `recordOutcomes` is in flight, everything that finishes meanwhile waits in `buffer` and is written
 * together when it returns (group commit). At most one write is in flight, which also keeps outcomes
 * for a given job in the order they were decided.
 *
 * Failed writes are kept (put back at the head of the buffer) and retried after a bounded exponential
 * backoff, so an outage loses no outcome. If a lease ran out meanwhile, the write later answers
 * 'lease-lost' and another executor runs the job again: the correct result for a job whose executor
 * could not report.
 */
export class QueueLayer implements Behaviour<LayerMessage> {
  private buffer: PendingWrite[] = [];
  private writing = false;
  private flushQueued = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff();
  private self: ActorRef<LayerMessage> | null = null;
  private stopped = false;

  constructor(
    private readonly manager: IJobQueueManager,
    private readonly logger: JobLogger,
  ) {}

  /** Called once by the shell, right after spawning, before any message is sent. */
  attach(self: ActorRef<LayerMessage>): void {
    this.self = self;
  }

  receive(msg: LayerMessage): void {
    switch (msg.kind) {
      case 'fetch': {
        const { request, askedAt, replyTo } = msg;
        call(() => this.manager.claimJobs(request)).then(
          (jobs) => replyTo.tell({ kind: 'fetched', jobs, asked: request.limit, askedAt }),
          (error: unknown) => replyTo.tell({ kind: 'fetch-failed', error, asked: request.limit }),
        );
        return;
      }
      case 'record':
        for (const w of msg.writes) this.buffer.push(w);
        this.scheduleFlush();
        return;
      case 'flush':
        this.flushQueued = false;
        this.flush();
        return;
      case 'flushed':
        this.writing = false;
        this.backoff.reset();
        this.reply(msg.batch, msg.checks);
        this.scheduleFlush();
        return;
      case 'flush-failed': {
        this.writing = false;
        this.buffer = msg.batch.concat(this.buffer);
        const delay = Math.min(this.backoff.next(), retryCeiling(msg.batch));
        this.logger.error(
          { err: msg.error, outcomes: msg.batch.length, retryInMs: delay },
          'oddjob: writing job outcomes failed; they are kept and retried',
        );
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.self!.tell({ kind: 'flush' });
          }, delay);
        }
        return;
      }
      case 'extend': {
        const { runs, leaseMs, at, replyTo } = msg;
        call(() =>
          this.manager.extendLeases(
            runs.map((r) => r.lease),
            leaseMs,
          ),
        ).then(
          (checks) => replyTo.tell({ kind: 'extended', runs, checks, at }),
          (error: unknown) => replyTo.tell({ kind: 'extend-failed', error }),
        );
        return;
      }
      case 'progress': {
        const { lease, progress, message, reply } = msg;
        call(() => this.manager.reportProgress(lease, progress, message)).then(reply, (err: unknown) => {
          this.logger.warn({ err, jobId: lease.jobId }, 'oddjob: storing job progress failed');
          reply('error');
        });
        return;
      }
      case 'logs': {
        // Fire and forget: a lost lease is found (and acted on) by the lease renewal, not here.
        const { entries, failed } = msg;
        call(() => this.manager.appendLogs(entries)).then(undefined, (err: unknown) => {
          this.logger.warn(
            { err, jobs: entries.length },
            'oddjob: writing job log lines failed; they go out with the next write',
          );
          failed(entries);
        });
        return;
      }
      default:
        return unreachable(msg);
    }
  }

  /** Ends the retry timer; later answers from storage are dropped by the stopped actors. */
  stop(): PendingWrite[] {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const left = this.buffer;
    this.buffer = [];
    return left;
  }

  /**
   * A flush is sent to self rather than done at once, so that every 'record' already in the mailbox
   * joins this batch. Nothing is sent while a write is in flight or a backoff is pending: their
   * completion schedules the next flush.
   */
  private scheduleFlush(): void {
    if (this.flushQueued || this.writing || this.retryTimer !== null || this.buffer.length === 0) return;
    this.flushQueued = true;
    this.self!.tell({ kind: 'flush' });
  }

  private flush(): void {
    if (this.writing || this.buffer.length === 0) return;
    const batch = this.buffer.length <= MAX_WRITE_BATCH ? this.buffer : this.buffer.slice(0, MAX_WRITE_BATCH);
    this.buffer = batch === this.buffer ? [] : this.buffer.slice(MAX_WRITE_BATCH);
    this.writing = true;
    const outcomes: JobOutcome[] = new Array<JobOutcome>(batch.length);
    for (let i = 0; i < batch.length; i++) outcomes[i] = batch[i].outcome;
    const self = this.self!;
    call(() => this.manager.recordOutcomes(outcomes)).then(
      (checks) => {
        if (!Array.isArray(checks) || checks.length !== batch.length) {
          self.tell({
            kind: 'flush-failed',
            batch,
            error: new Error(
              `recordOutcomes answered ${Array.isArray(checks) ? checks.length : 'no'} results for ${batch.length} outcomes`,
            ),
          });
        } else {
          self.tell({ kind: 'flushed', batch, checks });
        }
      },
      (error: unknown) => self.tell({ kind: 'flush-failed', batch, error }),
    );
  }

  /** Tells each coordinator which of its outcomes were written (usually all of a batch are one queue's). */
  private reply(batch: PendingWrite[], checks: LeaseCheck[]): void {
    let current: ActorRef<CoordinatorMessage> | null = null;
    let writes: RecordedWrite[] = [];
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i];
      if (w.replyTo !== current) {
        if (current !== null) current.tell({ kind: 'recorded', writes });
        current = w.replyTo;
        writes = [];
      }
      writes.push({ run: w.run, outcome: w.outcome, check: checks[i] });
    }
    if (current !== null) current.tell({ kind: 'recorded', writes });
  }
}

/** Runs a storage call so that a synchronous throw becomes a rejection like any other failure. */
function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err);
  }
}
