import { format } from 'node:util';
import type { Clock } from './clock.js';
import {
  MAX_LOG_CHARS_PER_RUN,
  MAX_LOG_LINE_CHARS,
  MAX_LOG_LINES_PER_RUN,
  type JobLogLine,
  type LogLevel,
} from './history.js';

/** Room kept at the end of a cut line for the marker that says how long it was. */
const LINE_MARKER_ROOM = 60;

/**
 * The log of one run while it runs: lines wait here until the executor writes them (with the next
 * lease sweep, or with the outcome), and the run's bounds are enforced here, once, for every store:
 * a line longer than MAX_LOG_LINE_CHARS is cut with a marker naming its length, and once the run
 * has written MAX_LOG_LINES_PER_RUN lines or MAX_LOG_CHARS_PER_RUN characters, one marker line
 * says the log was truncated and later lines are counted, not kept. So no run can grow an unbounded
 * log, however chatty or hostile the job.
 */
export class RunLogBuffer {
  private pending: JobLogLine[] = [];
  private lines = 0;
  private chars = 0;
  private dropped = 0;

  constructor(private readonly clock: Clock) {}

  add(level: LogLevel, message: string): void {
    if (this.dropped > 0) {
      this.dropped++;
      return;
    }
    const text = boundLine(message);
    if (this.lines + 1 >= MAX_LOG_LINES_PER_RUN || this.chars + text.length > MAX_LOG_CHARS_PER_RUN) {
      this.dropped = 1;
      this.push(
        'warn',
        `[log truncated: this run reached its log limit (${MAX_LOG_LINES_PER_RUN} lines or ${MAX_LOG_CHARS_PER_RUN} characters); later lines are dropped]`,
      );
      return;
    }
    this.push(level, text);
  }

  /** Lines not yet written, handed over once (undefined when there are none: the common case). */
  take(): JobLogLine[] | undefined {
    if (this.pending.length === 0) return undefined;
    const lines = this.pending;
    this.pending = [];
    return lines;
  }

  /** Gives lines back after a failed write, ahead of any written since, so the order is kept. */
  putBack(lines: readonly JobLogLine[]): void {
    this.pending = [...lines, ...this.pending];
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Lines the job wrote after the limit (not stored). */
  get droppedLines(): number {
    return Math.max(0, this.dropped - 1);
  }

  private push(level: LogLevel, message: string): void {
    this.lines++;
    this.chars += message.length;
    this.pending.push({ at: this.clock.now(), level, message });
  }
}

/** `console.log`-style text of what a job passed to `ctx.log(...)`, safe for every store. */
export function formatLogParts(parts: readonly unknown[]): string {
  let text: string;
  try {
    text = format(...parts);
  } catch {
    text = '(a log line that could not be formatted)';
  }
  return text;
}

/** A line within MAX_LOG_LINE_CHARS and without U+0000 (PostgreSQL text refuses it). */
function boundLine(message: string): string {
  const clean = message.includes('\u0000') ? message.replaceAll('\u0000', '\uFFFD') : message;
  if (clean.length <= MAX_LOG_LINE_CHARS) return clean;
  return `${clean.slice(0, MAX_LOG_LINE_CHARS - LINE_MARKER_ROOM)} … [line cut: ${clean.length} characters]`;
}

/** A logger call (`logger.info({ ... }, 'msg')`) as one stored line: the message, then the fields as JSON. */
export function loggerCallText(obj: object, msg: string | undefined): string {
  let fields = '';
  try {
    const json = JSON.stringify(obj, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v,
    );
    if (json !== undefined && json !== '{}') fields = json;
  } catch {
    fields = '(fields that could not be serialized)';
  }
  return [msg, fields].filter((p) => p !== undefined && p !== '').join(' ');
}
