/**
 * The sweep that claims start in the background: retention (when an interval is set) and the
 * clearing of dead writers' temp files. Its own module because it is state with a schedule (when it
 * last ran, whether one is running) that the store object only triggers and waits for at close.
 */
import type { ResolvedRetention } from '@oddjob/core';
import { toStoreError } from './errors.js';
import { HOUSEKEEPING_INTERVAL_MS, sweep } from './retention.js';
import type { StoreContext } from './store-context.js';

export class BackgroundSweep {
  private lastSweepAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** A claim asked while a sweep ran: look again when it ends (the interval may have passed meanwhile). */
  private askedMeanwhile = false;

  constructor(
    private readonly ctx: StoreContext,
    private readonly retention: ResolvedRetention,
  ) {}

  /**
   * Starts a sweep if the last one is older than the interval: every `retention.intervalMs` it
   * removes jobs past their keep times; without an interval (the default) it only clears temp files
   * of dead writers, once a minute, and removes no job. Never throws: a claim must not fail for it.
   */
  maybeRun(): void {
    if (this.running) {
      // Not dropped: a claim whose clock is past the interval while the last sweep is still running
      // (a sweep can take longer than the claims that follow it) must still get its sweep.
      this.askedMeanwhile = true;
      return;
    }
    const interval = this.retention.intervalMs ?? HOUSEKEEPING_INTERVAL_MS;
    const now = this.ctx.nowMs();
    if (now - this.lastSweepAt < interval) return;
    this.lastSweepAt = now;
    const dir = this.ctx.layout.root;
    this.running = sweep(this.ctx, this.retention.intervalMs === undefined ? null : this.retention)
      .then(
        () => undefined,
        (err: unknown) => {
          // Retried at the next interval.
          const error = toStoreError(dir, 'sweep', err);
          this.ctx.problems.report(
            'sweep-failed',
            dir,
            `the retention sweep failed (${error.message}); it runs again in ${interval} ms`,
            error,
          );
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.askedMeanwhile) {
          this.askedMeanwhile = false;
          this.maybeRun();
        }
      });
  }

  /** Resolves once no sweep is running, including one asked for while another ran (never rejects). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }
}
