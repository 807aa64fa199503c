// The timer that runs retention (purgeExpired) every `retention.intervalMs`. Apart from store.ts
// because the timer's rules (never two purges at once, never keeping the process alive, failures
// told to onBackgroundError) are one concern and the store's operations are another.
import { backgroundError } from './errors.js';

export class RetentionTimer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    /** undefined: no timer (retention runs only when purgeExpired is called). */
    private readonly intervalMs: number | undefined,
    private readonly purge: () => Promise<unknown>,
    private readonly onBackgroundError: (err: Error) => void,
  ) {}

  start(): void {
    const every = this.intervalMs;
    if (every === undefined) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow purge is never run twice at once
      this.running = true;
      this.purge()
        .catch((err: unknown) => this.onBackgroundError(backgroundError('retention', 'retention purge failed', err)))
        .finally(() => (this.running = false));
    }, every);
    // Retention alone must not keep a process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
