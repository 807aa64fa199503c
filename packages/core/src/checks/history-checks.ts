import { InvalidOptionError } from '../errors.js';
import { EXECUTOR_STATES, type ExecutorInfo, type ListExecutorsOptions } from '../executors.js';
import {
  isLogLevel,
  MAX_LOG_LINE_CHARS,
  MAX_PROGRESS_MESSAGE_CHARS,
  MAX_RESULT_CHARS,
  type JobLogLine,
  type LogFilter,
  type RunFilter,
  type WaitOptions,
} from '../history.js';
import type { LogAppend } from '../manager.js';
import { isArray } from './is-array.js';
import { checkDate, checkInt } from './limits.js';

/** Checks a listRuns filter: limit 0..1000 (default 100), offset >= 0. */
export function checkRunFilter(filter: RunFilter | undefined = {}): { limit: number; offset: number } {
  if (filter === null || typeof filter !== 'object') throw new InvalidOptionError('filter', 'must be an object');
  return {
    limit: filter.limit === undefined ? 100 : checkInt('limit', filter.limit, 0, 1000),
    offset: filter.offset === undefined ? 0 : checkInt('offset', filter.offset, 0),
  };
}

/** Checks a listLogs filter: attempt >= 0, afterSeq a safe integer >= 0, limit 0..10000 (default 1000). */
export function checkLogFilter(filter: LogFilter | undefined = {}): {
  attempt: number | undefined;
  afterSeq: number;
  limit: number;
} {
  if (filter === null || typeof filter !== 'object') throw new InvalidOptionError('filter', 'must be an object');
  const { afterSeq } = filter;
  if (afterSeq !== undefined && (!Number.isSafeInteger(afterSeq) || afterSeq < 0)) {
    throw new InvalidOptionError('afterSeq', `must be a non-negative integer, got ${String(afterSeq)}`);
  }
  return {
    attempt: filter.attempt === undefined ? undefined : checkInt('attempt', filter.attempt, 0),
    afterSeq: afterSeq ?? 0,
    limit: filter.limit === undefined ? 1000 : checkInt('limit', filter.limit, 0, 10_000),
  };
}

/** Checks log lines bound for a store: each a valid time, a known level and a bounded message. */
export function checkLogLines(option: string, lines: unknown): readonly JobLogLine[] {
  if (!Array.isArray(lines)) throw new InvalidOptionError(option, 'must be an array of log lines');
  lines.forEach((line: JobLogLine, i) => {
    if (line === null || typeof line !== 'object')
      throw new InvalidOptionError(`${option}[${i}]`, 'must be a log line object');
    checkDate(`${option}[${i}].at`, line.at);
    if (!isLogLevel(line.level))
      throw new InvalidOptionError(`${option}[${i}].level`, 'must be one of debug, info, warn, error');
    if (typeof line.message !== 'string' || line.message.length > MAX_LOG_LINE_CHARS) {
      throw new InvalidOptionError(
        `${option}[${i}].message`,
        `must be a string of at most ${MAX_LOG_LINE_CHARS} characters`,
      );
    }
    if (line.message.includes('\u0000'))
      throw new InvalidOptionError(`${option}[${i}].message`, 'must not contain U+0000');
  });
  return lines as readonly JobLogLine[];
}

/** Checks an appendLogs batch. */
export function checkLogAppends(entries: readonly LogAppend[]): void {
  if (!isArray(entries)) throw new InvalidOptionError('entries', 'must be an array');
  (entries as readonly (LogAppend | null)[]).forEach((e, i) => {
    if (e === null || typeof e !== 'object' || e.lease === null || typeof e.lease !== 'object') {
      throw new InvalidOptionError(`entries[${i}].lease`, 'must be a lease');
    }
    checkLogLines(`entries[${i}].lines`, e.lines);
  });
}

/** A progress message: null/undefined (none) or a string of at most MAX_PROGRESS_MESSAGE_CHARS. */
export function checkProgressMessage(message: unknown): string | null {
  if (message === undefined || message === null) return null;
  if (typeof message !== 'string' || message.length > MAX_PROGRESS_MESSAGE_CHARS || message.includes('\u0000')) {
    throw new InvalidOptionError(
      'message',
      `must be a string of at most ${MAX_PROGRESS_MESSAGE_CHARS} characters without U+0000`,
    );
  }
  return message;
}

/** A done outcome's serialized result: null/undefined (none) or text within MAX_RESULT_CHARS. */
export function checkResultText(option: string, result: unknown): string | null {
  if (result === undefined || result === null) return null;
  if (typeof result !== 'string' || result.length > MAX_RESULT_CHARS) {
    throw new InvalidOptionError(option, `must be serialized text of at most ${MAX_RESULT_CHARS} characters`);
  }
  return result;
}

/** waitForJob's options: timeoutMs an integer 0..2^31-1, signal an AbortSignal. */
export function checkWaitOptions(options: WaitOptions | undefined = {}): WaitOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined) checkInt('timeoutMs', timeoutMs, 0);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  return { timeoutMs, signal };
}

/** An executor's heartbeat: id 1..200 chars, host, pid, version, queues with worker counts, a state. */
export function checkExecutorInfo(info: ExecutorInfo): void {
  if (info === null || typeof info !== 'object') throw new InvalidOptionError('executor', 'must be an object');
  const text = (name: string, value: unknown, max: number) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      throw new InvalidOptionError(name, `must be a string of 1 to ${max} characters`);
    }
  };
  text('id', info.id, 200);
  text('host', info.host, 255);
  text('version', info.version, 50);
  checkInt('pid', info.pid, 0);
  checkDate('startedAt', info.startedAt);
  if (!(EXECUTOR_STATES as readonly string[]).includes(info.state))
    throw new InvalidOptionError('state', 'must be running or stopping');
  if (!Array.isArray(info.queues) || info.queues.length > 1000)
    throw new InvalidOptionError('queues', 'must be an array of at most 1000 queues');
  info.queues.forEach((q, i) => {
    if (q === null || typeof q !== 'object') throw new InvalidOptionError(`queues[${i}]`, 'must be { name, workers }');
    text(`queues[${i}].name`, q.name, 200);
    checkInt(`queues[${i}].workers`, q.workers, 0);
  });
}

/** listExecutors' options: staleAfterMs an integer 1..2^31-1. */
export function checkListExecutorsOptions(options: ListExecutorsOptions | undefined = {}): {
  staleAfterMs: number | undefined;
} {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  return {
    staleAfterMs: options.staleAfterMs === undefined ? undefined : checkInt('staleAfterMs', options.staleAfterMs, 1),
  };
}
