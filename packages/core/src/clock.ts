/**
 * Time as the library sees it. Everything that compares against "now" (runAt, lease expiry, cron
 * firing) reads it from an injected Clock, so tests move time instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = Object.freeze({ now: () => new Date() });
