import { InvalidOptionError } from '../errors.js';

/**
 * The one set of numeric and time limits every store enforces, chosen so that every provider can
 * hold what it accepts: SQL Server's DATEADD and TOP take a 32-bit int, its datetime2 spans the
 * years 1 to 9999, PostgreSQL's jsonb refuses U+0000.
 */

/** The largest count or duration in milliseconds a store accepts: 2^31-1 (a SQL int; ~24.8 days of ms). */
export const MAX_INT32 = 2_147_483_647;

/** The earliest time a store accepts: 0001-01-01T00:00:00.000Z (datetime2's first day). */
export const MIN_STORED_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');
/** The latest time a store accepts: 9999-12-31T23:59:59.999Z (datetime2's last instant). */
export const MAX_STORED_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** An integer from `min` to MAX_INT32, else InvalidOptionError naming `option`. */
export function checkInt(option: string, value: unknown, min: number, max = MAX_INT32): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * A lease length: an integer number of milliseconds from 1 to 2^31-1. Zero would hand out a lease
 * already expired (the job could be claimed twice at once), a fraction cannot be stored by every
 * provider, and beyond 2^31-1 SQL Server's DATEADD overflows.
 */
export function checkLeaseMs(leaseMs: unknown): number {
  return checkInt('leaseMs', leaseMs, 1);
}

/** Whether a time is one every store can hold (years 1 to 9999, UTC). */
export function isStorableTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_STORED_TIME_MS && ms <= MAX_STORED_TIME_MS;
}

/** A valid Date within the stored range, else InvalidOptionError naming `option`. */
export function checkDate(option: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidOptionError(option, 'must be a valid Date');
  if (!isStorableTime(value.getTime())) {
    throw new InvalidOptionError(option, `must be between years 1 and 9999 (UTC), got ${value.toISOString()}`);
  }
  return value;
}
