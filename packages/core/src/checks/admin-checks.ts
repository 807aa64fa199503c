import type { JobFilter, PurgeFilter } from '../admin.js';
import { InvalidOptionError } from '../errors.js';
import { isFinalStatus, isJobStatus, type FinalJobStatus, type JobStatus } from '../status.js';
import { checkDate, checkInt } from './limits.js';
import { isArray } from './is-array.js';

/** A listJobs filter once checked: statuses de-duplicated (undefined = any), limit and offset filled in. */
export interface CheckedJobFilter {
  statuses: JobStatus[] | undefined;
  queue: string | undefined;
  target: string | undefined;
  afterId: string | undefined;
  /** Only steps of this sequence run (SequenceTag.run). */
  sequenceRun: string | undefined;
  /** Only steps of runs of this sequence (SequenceTag.name). */
  sequence: string | undefined;
  limit: number;
  offset: number;
}

/** Longest afterId a listJobs filter takes: ids are 36 characters; the slack is for callers' own keys. */
export const MAX_AFTER_ID_LENGTH = 100;

function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(option, 'must be a string');
  return value;
}

function checkAfterId(value: unknown): string | undefined {
  const s = optionalString('afterId', value);
  if (s !== undefined && s.length > MAX_AFTER_ID_LENGTH)
    throw new InvalidOptionError('afterId', `must be at most ${MAX_AFTER_ID_LENGTH} characters, got ${s.length}`);
  return s;
}

/**
 * Checks a listJobs filter. Repeated statuses count once (so a store never sends one parameter per
 * repeat); an unknown status is refused naming `status`. afterId is a string of at most 100
 * characters. limit and offset are integers from 0 to 2^31-1 (limit defaults to 100).
 */
export function checkJobFilter(filter: JobFilter | undefined = {}): CheckedJobFilter {
  if (filter === null || typeof filter !== 'object') throw new InvalidOptionError('filter', 'must be an object');
  let statuses: JobStatus[] | undefined;
  if (filter.status !== undefined) {
    const given = ([] as unknown[]).concat(filter.status);
    for (const s of given) {
      if (typeof s !== 'string' || !isJobStatus(s))
        throw new InvalidOptionError('status', `unknown status ${JSON.stringify(s)}`);
    }
    statuses = [...new Set(given as JobStatus[])];
  }
  return {
    statuses,
    queue: optionalString('queue', filter.queue),
    target: optionalString('target', filter.target),
    afterId: checkAfterId(filter.afterId),
    sequenceRun: optionalString('sequenceRun', filter.sequenceRun),
    sequence: optionalString('sequence', filter.sequence),
    limit: filter.limit === undefined ? 100 : checkInt('limit', filter.limit, 0),
    offset: filter.offset === undefined ? 0 : checkInt('offset', filter.offset, 0),
  };
}

/** A purge filter once checked: final statuses, de-duplicated. */
export interface CheckedPurgeFilter {
  statuses: FinalJobStatus[];
  queue: string | undefined;
  finishedBefore: Date | undefined;
}

/**
 * Checks a purge filter. Only final statuses can be purged: any other (or an unknown one) is refused
 * naming `statuses`, on every store, rather than silently ignored.
 */
export function checkPurgeFilter(filter: PurgeFilter): CheckedPurgeFilter {
  if (filter === null || typeof filter !== 'object' || !isArray(filter.statuses)) {
    throw new InvalidOptionError('statuses', 'purgeJobs needs { statuses: [...final statuses] }');
  }
  for (const s of filter.statuses as unknown[]) {
    if (typeof s !== 'string' || !isJobStatus(s) || !isFinalStatus(s)) {
      throw new InvalidOptionError(
        'statuses',
        `only done, failed and cancelled jobs can be purged, not ${JSON.stringify(s)}`,
      );
    }
  }
  return {
    statuses: [...new Set(filter.statuses)],
    queue: optionalString('queue', filter.queue),
    finishedBefore:
      filter.finishedBefore === undefined ? undefined : checkDate('finishedBefore', filter.finishedBefore),
  };
}

/** Checks requeueJob's options; answers the runAt asked for, or undefined for "now". */
export function checkRequeueOptions(options: { runAt?: Date } | undefined = {}): Date | undefined {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  return options.runAt === undefined ? undefined : checkDate('runAt', options.runAt);
}

/** Checks countJobs' filter. */
export function checkCountFilter(filter: { queue?: string } | undefined = {}): string | undefined {
  if (filter === null || typeof filter !== 'object') throw new InvalidOptionError('filter', 'must be an object');
  return optionalString('queue', filter.queue);
}
