import type { IJobQueueAdmin, JobStatus, ScheduleManager } from '@oddjob/core';
import { readAfter, type Cursor } from './cursor.js';

export type Notification =
  | {
      kind: 'job.failed';
      job: {
        id: string;
        queue: string;
        target: string;
        method: string;
        attempts: number;
        finishedAt: string | null;
        error: { name: string; message: string } | null;
      };
    }
  | {
      kind: 'schedule.missed';
      schedule: { name: string; cron: string; timeZone: string; nextFireAt: string; lateMs: number };
    };

export interface WebhookOptions {
  url: string;
  /** Extra headers (e.g. an Authorization for the receiver). */
  headers?: Record<string, string>;
  /** Attempts in all, default 5. */
  attempts?: number;
  /** First backoff, doubled after each failed attempt; default 500 ms. */
  backoffMs?: number;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  onGiveUp?: (n: Notification, err: Error) => void;
}

/** The receiver did not take a notification after every attempt. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/**
 * POSTs each notification as JSON. A network error, a timeout, 429 or 5xx is retried with
 * exponential backoff; another 4xx is the receiver refusing the payload and is not retried.
 */
export class WebhookNotifier {
  constructor(private readonly o: WebhookOptions) {
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url))
      throw new TypeError(`webhook url "${String(o.url)}" must be an http(s) URL`);
  }

  async send(n: Notification): Promise<void> {
    const attempts = this.o.attempts ?? 5;
    let delay = this.o.backoffMs ?? 500;
    let last: Error = new WebhookDeliveryError('no attempt made');
    for (let i = 1; i <= attempts; i++) {
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.o.headers },
          body: JSON.stringify({ ...n, sentAt: new Date().toISOString(), attempt: i }),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        if (res.ok) return;
        last = new WebhookDeliveryError(`webhook ${this.o.url} answered ${res.status}`);
        if (res.status < 500 && res.status !== 429) break;
      } catch (err) {
        last = new WebhookDeliveryError(`webhook ${this.o.url}: ${(err as Error).message}`);
      }
      if (i < attempts) await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
    this.o.onGiveUp?.(n, last);
    throw last;
  }
}

export interface WatcherOptions {
  admin: IJobQueueAdmin;
  schedules?: ScheduleManager;
  notify: (n: Notification) => Promise<void>;
  /** Default 10 s. */
  intervalMs?: number;
  /** A schedule this late past its nextFireAt counts as missing its runs; default 60 s. */
  scheduleGraceMs?: number;
  now?: () => Date;
}

/**
 * Polls the store for final failures and for overdue schedules. Stores record no event stream, so
 * failures are found by watching the failed count per queue and, when it grows, reading that
 * queue's failed jobs and keeping those that finished after the last check (a failed job is final,
 * so finishedAt is when it failed). Each job and each missed fire time is notified once per watcher.
 */
export class NotificationWatcher {
  private timer: NodeJS.Timeout | null = null;
  private failedCounts = new Map<string, number>();
  private since: Date;
  private readonly notified = new Set<string>();
  private primed = false;
  private running: Promise<void> | null = null;

  constructor(private readonly o: WatcherOptions) {
    this.since = this.now();
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.check().catch(() => undefined), this.o.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round; the timer calls it, tests call it directly. */
  async check(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    const checkedAt = this.now();
    const counts = await this.o.admin.countJobs();
    const grown: string[] = [];
    for (const c of counts) {
      if (c.status !== 'failed') continue;
      if (c.count > (this.failedCounts.get(c.queue) ?? 0)) grown.push(c.queue);
      this.failedCounts.set(c.queue, c.count);
    }
    if (this.primed) for (const queue of grown) await this.failuresIn(queue);
    this.primed = true;
    await this.missedSchedules(checkedAt);
    this.since = checkedAt;
  }

  private async failuresIn(queue: string): Promise<void> {
    const status: JobStatus = 'failed';
    let cursor: Cursor | null = null;
    for (;;) {
      const rows = await readAfter(this.o.admin, { status, queue }, 500, cursor);
      for (const r of rows) {
        const key = `job:${r.id}:${r.finishedAt?.getTime()}`;
        if (r.finishedAt === null || r.finishedAt < this.since || this.notified.has(key)) continue;
        this.notified.add(key);
        await this.o
          .notify({
            kind: 'job.failed',
            job: {
              id: r.id,
              queue: r.queue,
              target: r.target,
              method: r.method,
              attempts: r.attempts,
              finishedAt: r.finishedAt.toISOString(),
              error: r.lastError && { name: r.lastError.name, message: r.lastError.message },
            },
          })
          .catch(() => undefined);
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < 500) return;
      cursor = { afterId: last.id };
    }
  }

  private async missedSchedules(now: Date): Promise<void> {
    if (this.o.schedules === undefined) return;
    const grace = this.o.scheduleGraceMs ?? 60_000;
    for (const s of await this.o.schedules.list()) {
      if (s.paused || s.nextFireAt === null) continue;
      const late = now.getTime() - s.nextFireAt.getTime();
      const key = `schedule:${s.name}:${s.nextFireAt.getTime()}`;
      if (late <= grace || this.notified.has(key)) continue;
      this.notified.add(key);
      await this.o
        .notify({
          kind: 'schedule.missed',
          schedule: {
            name: s.name,
            cron: s.cron,
            timeZone: s.timeZone,
            nextFireAt: s.nextFireAt.toISOString(),
            lateMs: late,
          },
        })
        .catch(() => undefined);
    }
  }
}
