import {
  FINAL_JOB_STATUSES,
  systemClock,
  type Clock,
  type FinalJobStatus,
  type IJobQueueAdmin,
  type ResolvedRetention,
} from '@oddjob/core';

/**
 * Retention on SQL Server: a periodic purge of final jobs older than the configured times, through
 * the store's ordinary purgeJobs (so it frees unique keys exactly as a manual purge does). Off unless
 * `retention` names a time; the timer runs only with `retention.intervalMs`.
 */
export class RetentionTimer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly admin: Pick<IJobQueueAdmin, 'purgeJobs'>,
    private readonly retention: ResolvedRetention,
    private readonly onError: (err: Error) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Purges once; answers how many jobs went. */
  async runOnce(): Promise<number> {
    const keep: Record<FinalJobStatus, number | undefined> = {
      done: this.retention.doneMs,
      failed: this.retention.failedMs,
      cancelled: this.retention.cancelledMs,
    };
    let n = 0;
    const now = this.clock.now().getTime();
    for (const status of FINAL_JOB_STATUSES) {
      const ms = keep[status];
      if (ms === undefined) continue;
      n += await this.admin.purgeJobs({ statuses: [status], finishedBefore: new Date(now - ms) });
    }
    return n;
  }

  start(): void {
    const every = this.retention.intervalMs;
    if (every === undefined || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow purge is never overlapped by the next
      this.running = true;
      this.runOnce()
        .catch((err: unknown) =>
          this.onError(new Error(`retention purge failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })),
        )
        .finally(() => (this.running = false));
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
