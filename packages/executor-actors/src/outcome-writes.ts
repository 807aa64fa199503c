// A coordinator's outcome writes on its side of the queue layer: the outbox of outcomes decided
// during one message, and the finished runs whose outcome is not stored yet. Apart from
// coordinator.ts because this bookkeeping (which runs still hold a lease, when a drain may end) is
// one concern, and the claim and dispatch logic is another. The layer does the batching and the
// retries of the writes themselves (queue-layer.ts).
import type { JobLogger, JobOutcome } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import type { CoordinatorMessage, LayerMessage, PendingWrite, RecordedWrite } from './messages.js';
import type { RunningJob } from './running-job.js';

export class OutcomeWrites {
  /** Outcomes decided during the current message, sent to the layer as one 'record' at its end. */
  private outbox: PendingWrite[] = [];
  /**
   * Finished runs whose outcome is with the queue layer, not yet stored (a run has one outcome, so this
   * is also the count of writes in flight that a drain waits for). Their leases are renewed like
   * those of running jobs: during an outage the write is retried, and if the lease lapsed meanwhile the
   * job would be claimed and run again although its outcome is only waiting to be written.
   */
  private readonly awaiting = new Set<RunningJob>();

  constructor(
    private readonly self: ActorRef<CoordinatorMessage>,
    private readonly layer: ActorRef<LayerMessage>,
    private readonly logger: JobLogger,
    private readonly queue: string,
  ) {}

  /** Outcomes decided in this message and not sent yet. */
  get queued(): number {
    return this.outbox.length;
  }

  /** Finished runs whose outcome is not stored yet. */
  get inFlight(): number {
    return this.awaiting.size;
  }

  /** The finished runs whose outcome is not stored yet: they still hold their lease. */
  runs(): Iterable<RunningJob> {
    return this.awaiting;
  }

  /** Queues `decided` for the end of this message; the run keeps its lease until the write is confirmed. */
  add(run: RunningJob, decided: JobOutcome): void {
    // The run's last log lines go out with its outcome, in the same store write.
    const logs = run.takeLogs();
    const outcome = logs === undefined ? decided : { ...decided, logs };
    this.awaiting.add(run);
    this.outbox.push({ run, outcome, replyTo: this.self });
  }

  /** Sends this message's outcomes to the layer, all in one 'record'. */
  send(): void {
    if (this.outbox.length === 0) return;
    const writes = this.outbox;
    this.outbox = [];
    this.layer.tell({ kind: 'record', writes });
  }

  /**
   * The layer wrote these: each run lets go of its lease, and `stored` is called, in write order,
   * for each outcome storage accepted (a refused one lost its lease, which is logged).
   */
  recorded(writes: readonly RecordedWrite[], stored: (run: RunningJob, outcome: JobOutcome) => void): void {
    for (const { run, outcome, check } of writes) {
      this.awaiting.delete(run);
      const job = run.job;
      if (check !== 'ok') {
        this.logger.warn(
          { jobId: job.id, queue: this.queue, outcome: outcome.kind },
          'oddjob: outcome refused, the lease was lost (expired, taken over or cancelled); another executor may run the job',
        );
        continue;
      }
      stored(run, outcome);
    }
  }
}
