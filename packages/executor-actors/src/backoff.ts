/**
 * Bounded exponential backoff for infrastructure failures (storage unreachable, a scheduler tick
 * failing). Kept apart from job retries on purpose: a database outage must not use up any job's
 * attempts, and it must not be hammered either. 100 ms, 200 ms, ... capped at 10 s; reset on success.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 10_000,
  ) {}

  /** The delay before the next try after one more failure. */
  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }
}
