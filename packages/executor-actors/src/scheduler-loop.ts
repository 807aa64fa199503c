import type { JobLogger } from '@oddjob/core';
import { Backoff } from './backoff.js';

/** The structural shape of core's Scheduler: `tick()` fires the cron schedules that are due. */
export interface ScheduleTicker {
  tick(): Promise<unknown>;
}

/**
 * Calls every scheduler's `tick()` every `pollMs` while the shell runs. One timer for all of them,
 * re-armed after each round (never overlapping rounds). A failing round is logged and the next one
 * waits a bounded exponential backoff instead of `pollMs`, so a database outage is not hammered.
 */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  private readonly backoff = new Backoff(100, 10_000);

  constructor(
    private readonly schedulers: readonly ScheduleTicker[],
    private readonly pollMs: number,
    private readonly logger: JobLogger,
  ) {}

  start(): void {
    if (this.schedulers.length === 0) return;
    this.arm(0);
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.round = this.tickAll().finally(() => {
        this.round = null;
      });
    }, delay);
  }

  private async tickAll(): Promise<void> {
    let failed = false;
    for (const scheduler of this.schedulers) {
      if (this.stopped) return;
      try {
        await scheduler.tick();
      } catch (err) {
        failed = true;
        this.logger.error({ err }, 'oddjob: a scheduler tick failed');
      }
    }
    if (failed) this.arm(Math.max(this.pollMs, this.backoff.next()));
    else {
      this.backoff.reset();
      this.arm(this.pollMs);
    }
  }
}
