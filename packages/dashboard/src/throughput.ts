import type { IJobQueueAdmin, JobStatus } from '@oddjob/core';
import { JOB_STATUSES } from '@oddjob/core';

export interface Sample {
  at: Date;
  totals: Record<JobStatus, number>;
}

/**
 * No store records when jobs finished in aggregate, so the server samples `countJobs` itself into a
 * ring buffer and the chart shows the change between samples: jobs that turned done / failed per
 * interval. It starts empty at server start, is per server process, and a purge between two samples
 * makes a drop that is shown as 0, not as negative work.
 */
export class ThroughputSampler {
  private readonly samples: Sample[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly admin: Pick<IJobQueueAdmin, 'countJobs'>,
    readonly intervalMs = 5_000,
    private readonly capacity = 720,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async sample(at = new Date()): Promise<void> {
    try {
      const counts = await this.admin.countJobs();
      const totals = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
      for (const c of counts) totals[c.status] += c.count;
      this.push({ at, totals });
    } catch {
      // A store outage leaves a gap in the chart; the next tick tries again.
    }
  }

  private push(s: Sample): void {
    if (this.samples.length < this.capacity) this.samples.push(s);
    else this.samples[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  ordered(): Sample[] {
    return this.samples.length < this.capacity
      ? [...this.samples]
      : [...this.samples.slice(this.next), ...this.samples.slice(0, this.next)];
  }

  points() {
    const s = this.ordered();
    const out = [];
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1].totals;
      const b = s[i].totals;
      out.push({
        at: s[i].at.toISOString(),
        done: Math.max(0, b.done - a.done),
        failed: Math.max(0, b.failed - a.failed),
        // Claimable or due later ('new' and 'retry'); 'waiting' is the status of jobs held by
        // their parents or a key's slot, counted on its own.
        queued: b.new + b.retry,
        waiting: b.waiting,
        processing: b.processing,
      });
    }
    return out;
  }
}
