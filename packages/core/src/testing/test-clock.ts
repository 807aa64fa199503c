import type { Clock } from '../clock.js';

/** A clock that moves only when told: for tests of runAt, leases, backoff and cron without sleeping. */
export class TestClock implements Clock {
  private ms: number;

  constructor(start: Date | number = Date.UTC(2030, 0, 1, 12, 0, 0)) {
    this.ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): Date {
    this.ms += ms;
    return this.now();
  }

  set(to: Date): void {
    this.ms = to.getTime();
  }
}
