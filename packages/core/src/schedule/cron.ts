import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { InvalidOptionError } from '../errors.js';

/**
 * All cron arithmetic of the scheduler lives here, on cron-parser 5. Nothing else in the library
 * touches cron-parser, so its quirks (below) are handled once.
 *
 * Time zones: every parse is given `tz` explicitly. cron-parser's default is the process's zone,
 * which would make two executors in different zones fire the same schedule at different instants.
 *
 * Daylight-saving time (cron-parser's behaviour, verified by test/schedule-dst.test.ts):
 *  - Spring forward (a local hour does not exist, e.g. 02:00-02:59 in Europe/Berlin on the last
 *    Sunday of March): a time in the gap is moved forward by the length of the gap, so `30 2 * * *`
 *    fires once, at 03:30 local time. If the shifted time coincides with a real one (`30 2,3 * * *`)
 *    the schedule fires once for both. Expressions with a wildcard hour simply have no firings in
 *    the missing hour (`0 * * * *` fires at 01:00 then 03:00).
 *  - Fall back (a local hour happens twice): an expression naming the hour (`30 2 * * *`) fires
 *    once, at the FIRST occurrence (summer time); expressions with a wildcard hour fire at every
 *    real instant, so `0 * * * *` fires at both 02:00s, an hour apart.
 * These rules hold only when iterating forward from the previous fire time: cron-parser started
 * from a point inside the repeated hour will answer the second occurrence, and `prev()` answers it
 * too. That is why fire times are always chained forward from the stored nextFireAt (see `window`),
 * never recomputed from "now", and why `prev()` is used only as a last resort for huge backlogs.
 */

/** The expression of a one-off schedule; its single fire time is the schedule's `at`. */
export const ONCE = '@once';

/** Macros accepted besides 5- and 6-field expressions (cron-parser's set, less @secondly). */
export const CRON_MACROS: readonly string[] = Object.freeze([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@hourly',
  '@minutely',
  '@weekdays',
  '@weekends',
]);

/** The default zone of a schedule: fixed, never the process's zone. */
export const DEFAULT_TIME_ZONE = 'UTC';

/**
 * Beyond this many fire times in one backlog, `window` stops walking forward and jumps back from
 * "now" instead (cron-parser takes ~30 µs a step: 10k steps is ~0.3 s, once per outage).
 */
const SCAN_LIMIT = 10_000;

/**
 * Parsing is the dear part (Intl builds a formatter per zone check, cron-parser ~0.1 ms a parse), and
 * a scheduler reads the same few schedules every second: checked zones and bound schedules are
 * remembered. Zones are a closed set (only valid names are kept); schedules are kept LRU.
 */
const zones = new Map<string, string>();
const bound = new Map<string, CronSchedule>();
const BOUND_CACHE_SIZE = 5000;

/**
 * Checks an IANA zone name and answers its canonical spelling ('utc' → 'UTC', 'europe/berlin' →
 * 'Europe/Berlin'). Offsets such as '+02:00' or 'UTC+2' are refused: they have no DST rules, and
 * cron-parser and Intl disagree about them.
 */
export function normalizeTimeZone(timeZone: unknown): string {
  if (timeZone === undefined) return DEFAULT_TIME_ZONE;
  if (typeof timeZone !== 'string' || timeZone.trim().length === 0) {
    throw new InvalidOptionError('timeZone', 'must be an IANA time zone name such as "Europe/Berlin" or "UTC"');
  }
  const known = zones.get(timeZone);
  if (known !== undefined) return known;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidOptionError(
      'timeZone',
      `"${timeZone}" is not a known IANA time zone name (e.g. "Europe/Berlin", "UTC")`,
    );
  }
  // Node 24's ICU accepts offsets such as "+02:00" as zones (Node 20 throws): refuse them on every
  // Node, since an offset is not a zone name and the same schedule must be accepted everywhere.
  if (/^[+-]/.test(canonical)) {
    throw new InvalidOptionError(
      'timeZone',
      `"${timeZone}" is an offset, not an IANA time zone name (e.g. "Europe/Berlin", "Etc/GMT-2")`,
    );
  }
  zones.set(timeZone, canonical);
  return canonical;
}

/**
 * Checks the shape of an expression (5 or 6 fields, a known macro, or '@once') and answers it
 * trimmed. The fields themselves are checked by `CronSchedule.of`.
 */
export function checkExpressionShape(expression: unknown): string {
  if (typeof expression !== 'string' || expression.trim().length === 0) {
    // cron-parser reads '' as "every second": refuse it rather than fire 86,400 jobs a day.
    throw new InvalidOptionError(
      'cron',
      'must be a cron expression such as "0 8 * * 1-5", a macro such as "@daily", or "@once"',
    );
  }
  const text = expression.trim();
  if (text.startsWith('@')) {
    if (text === ONCE || CRON_MACROS.includes(text)) return text;
    throw new InvalidOptionError('cron', `unknown macro "${text}"; known: ${[...CRON_MACROS, ONCE].join(', ')}`);
  }
  const fields = text.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new InvalidOptionError(
      'cron',
      `"${text}" has ${fields} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`,
    );
  }
  return text;
}

/**
 * A cron expression bound to a time zone; iterates forward from whatever it is asked. Its methods are
 * synchronous and reuse one parsed cron-parser iterator (reset at each call), which is safe because
 * nothing else can run between the reset and the last step.
 */
export class CronSchedule {
  private parsed: CronExpression | undefined;

  private constructor(
    readonly expression: string,
    readonly timeZone: string,
    /** Seeds cron-parser's `H` (hashed) fields: the schedule's name, so every executor picks the same minute. */
    private readonly seed: string,
  ) {}

  /**
   * Validates and binds. Throws InvalidOptionError naming `cron` or `timeZone`. '@once' is not a
   * cron expression and is refused here: one-off schedules have no arithmetic.
   */
  static of(expression: string, timeZone: string, seed: string): CronSchedule {
    const key = `${String(expression)}\u0000${String(timeZone)}\u0000${seed}`;
    const cached = bound.get(key);
    if (cached !== undefined) {
      bound.delete(key); // re-inserted below: Map order is the LRU order
      bound.set(key, cached);
      return cached;
    }
    const schedule = CronSchedule.bind(expression, timeZone, seed);
    bound.set(key, schedule);
    if (bound.size > BOUND_CACHE_SIZE) bound.delete(bound.keys().next().value!);
    return schedule;
  }

  private static bind(expression: string, timeZone: string, seed: string): CronSchedule {
    const text = checkExpressionShape(expression);
    if (text === ONCE) throw new InvalidOptionError('cron', '"@once" has no recurring fire times');
    const zone = normalizeTimeZone(timeZone);
    const schedule = new CronSchedule(text, zone, seed);
    // Parse and step once now, so that an expression that can never fire (cron-parser loops then
    // gives up) is refused at creation rather than at the first tick.
    try {
      schedule.iterate(new Date(Date.UTC(2000, 0, 1))).next();
    } catch (err) {
      throw new InvalidOptionError('cron', `"${text}" is not a valid cron expression: ${(err as Error).message}`);
    }
    return schedule;
  }

  /** The first `count` fire times strictly after `after`, in order. */
  after(after: Date, count: number): Date[] {
    const it = this.iterate(after);
    const out: Date[] = [];
    for (let i = 0; i < count; i++) out.push(it.next().toDate());
    return out;
  }

  /** The first fire time strictly after `after`. */
  nextAfter(after: Date): Date {
    return this.iterate(after).next().toDate();
  }

  /**
   * The fire times due in [from, until], where `from` is the stored next fire time (fired as it is:
   * it was computed by this same arithmetic), keeping only the newest `keep` of them; and the first
   * fire time after `until`, chained forward from the last one, so the DST rules above hold.
   *
   * `dropped` counts the due times not kept. After more than SCAN_LIMIT due times the walk jumps to
   * the newest `keep` found backwards from `until` (cheap for any backlog); `dropped` is then a lower
   * bound. Only such a jump across a fall-back hour could pick the repeated hour's second instant.
   */
  window(from: Date, until: Date, keep: number): { times: Date[]; next: Date; dropped: number } {
    if (from > until) return { times: [], next: from, dropped: 0 };
    const times: Date[] = [from];
    let seen = 1;
    const it = this.iterate(from);
    for (;;) {
      if (seen > SCAN_LIMIT) return this.jumpBack(from, until, keep, seen);
      const t = it.next().toDate();
      if (t > until) return { times: times.slice(-keep), next: t, dropped: Math.max(0, seen - keep) };
      times.push(t);
      if (times.length > keep) times.shift();
      seen++;
    }
  }

  private jumpBack(
    from: Date,
    until: Date,
    keep: number,
    seen: number,
  ): { times: Date[]; next: Date; dropped: number } {
    const back = this.iterate(new Date(until.getTime() + 1));
    const times: Date[] = [];
    while (times.length < keep) {
      const t = back.prev().toDate();
      if (t < from) break;
      times.unshift(t);
    }
    const forward = this.iterate(times[times.length - 1] ?? until);
    let next = forward.next().toDate();
    while (next <= until) next = forward.next().toDate();
    return { times, next, dropped: Math.max(0, seen - times.length) };
  }

  private iterate(currentDate: Date): CronExpression {
    if (this.parsed === undefined) {
      this.parsed = CronExpressionParser.parse(this.expression, {
        tz: this.timeZone,
        currentDate,
        hashSeed: this.seed,
      });
    } else {
      this.parsed.reset(currentDate);
    }
    return this.parsed;
  }
}
