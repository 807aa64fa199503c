import type { AttemptedJob } from '../attempted.js';
import { InvalidOptionError } from '../errors.js';
import { checkLogLines, checkResultText } from './history-checks.js';
import { isArray } from './is-array.js';
import { checkDate } from './limits.js';

/**
 * Checks an insertAttempted batch, naming the entry and field: times in range and in order, an
 * owner and host as a claim takes them, a known outcome with what it needs (retry: an error, a
 * runAt, and an attempt left after the first; failed: an error; done: no error, a bounded result),
 * and log lines as appendLogs takes them. The jobs themselves are checked by the store's insert.
 */
export function checkAttemptedJobs(entries: readonly AttemptedJob[]): void {
  if (!isArray(entries)) throw new InvalidOptionError('entries', 'must be an array');
  (entries as readonly (AttemptedJob | null)[]).forEach((e, i) => {
    const at = `entries[${i}]`;
    if (e === null || typeof e !== 'object') throw new InvalidOptionError(at, 'must be { job, startedAt, ... }');
    if (e.job === null || typeof e.job !== 'object')
      throw new InvalidOptionError(`${at}.job`, 'must be a prepared job');
    // A job that already ran cannot have waited for parents or a slot of its key.
    if (e.job.after !== null && e.job.after !== undefined)
      throw new InvalidOptionError(`${at}.job.after`, 'a job run at once cannot wait for other jobs');
    if (e.job.concurrency !== null && e.job.concurrency !== undefined)
      throw new InvalidOptionError(
        `${at}.job.concurrency`,
        'a job run at once cannot take a slot of a concurrency key',
      );
    const started = checkDate(`${at}.startedAt`, e.startedAt);
    const finished = checkDate(`${at}.finishedAt`, e.finishedAt);
    if (finished.getTime() < started.getTime())
      throw new InvalidOptionError(`${at}.finishedAt`, 'must not be before startedAt');
    if (typeof e.owner !== 'string' || e.owner.length === 0 || e.owner.length > 200)
      throw new InvalidOptionError(`${at}.owner`, 'must be a string of 1 to 200 characters');
    const host = e.host;
    if (host !== undefined && host !== null && (typeof host !== 'string' || host.length === 0 || host.length > 255))
      throw new InvalidOptionError(`${at}.host`, 'must be a string of 1 to 255 characters, or null');
    checkOutcome(e, at);
    if (e.logs !== undefined) checkLogLines(`${at}.logs`, e.logs);
  });
}

function checkOutcome(e: AttemptedJob, at: string): void {
  const o = e.outcome as Partial<Record<'kind' | 'error' | 'runAt' | 'result', unknown>> | null;
  if (o === null || typeof o !== 'object')
    throw new InvalidOptionError(`${at}.outcome`, 'must be { kind: retry | failed | done, ... }');
  switch (o.kind) {
    case 'retry':
      checkError(o.error, `${at}.outcome.error`);
      if (o.runAt === undefined)
        throw new InvalidOptionError(`${at}.outcome.runAt`, 'a retry needs the time to run again');
      checkDate(`${at}.outcome.runAt`, o.runAt);
      if (e.job.retry?.maxAttempts < 2)
        throw new InvalidOptionError(
          `${at}.outcome`,
          `a retry needs an attempt left, but the job's retry policy allows ${String(e.job.retry?.maxAttempts)} and attempt 1 used it; store it failed`,
        );
      return;
    case 'failed':
      checkError(o.error, `${at}.outcome.error`);
      return;
    case 'done':
      if (o.error !== undefined && o.error !== null)
        throw new InvalidOptionError(`${at}.outcome.error`, 'a done attempt has no error');
      checkResultText(`${at}.outcome.result`, o.result);
      return;
    default:
      throw new InvalidOptionError(`${at}.outcome.kind`, 'must be one of retry, failed, done');
  }
}

function checkError(error: unknown, option: string): void {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.message !== 'string')
    throw new InvalidOptionError(option, 'must be a JobError { name, message, stack? }');
  if (e.stack !== undefined && typeof e.stack !== 'string')
    throw new InvalidOptionError(`${option}.stack`, 'must be a string when given');
}
