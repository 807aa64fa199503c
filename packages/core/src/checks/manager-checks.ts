import { InvalidOptionError } from '../errors.js';
import type { JobLease, JobProgress } from '../job.js';
import { DEFAULT_TAKEOVER_AFTER_MS, type ClaimRequest, type JobOutcome } from '../manager.js';
import { checkLogLines, checkProgressMessage, checkResultText } from './history-checks.js';
import { checkDate, checkInt, checkLeaseMs } from './limits.js';
import { isArray } from './is-array.js';

/** At most this many queues per claim (each becomes a statement parameter on SQL Server). */
export const MAX_CLAIM_QUEUES = 1000;

/** A checked claim request: queues de-duplicated, takeoverAfterMs filled in. */
export type CheckedClaimRequest = ClaimRequest & { takeoverAfterMs: number };

/**
 * Checks a claim request; answers it with the queues de-duplicated and the takeover threshold's
 * default filled in. Throws InvalidOptionError naming the bad field. `limit` is an integer from 1 to
 * 2^31-1, `takeoverAfterMs` from 0 to 2^31-1.
 */
export function checkClaimRequest(request: ClaimRequest): CheckedClaimRequest {
  if (request === null || typeof request !== 'object') throw new InvalidOptionError('request', 'must be an object');
  const { queues, limit, owner, leaseMs, host } = request;
  const takeoverAfterMs =
    request.takeoverAfterMs === undefined
      ? DEFAULT_TAKEOVER_AFTER_MS
      : checkInt('takeoverAfterMs', request.takeoverAfterMs, 0);
  checkInt('limit', limit, 1);
  if (!Array.isArray(queues) || queues.some((q) => typeof q !== 'string')) {
    throw new InvalidOptionError('queues', 'must be an array of queue names');
  }
  const unique = [...new Set(queues)];
  if (unique.length > MAX_CLAIM_QUEUES)
    throw new InvalidOptionError('queues', `at most ${MAX_CLAIM_QUEUES} queues per claim`);
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) {
    throw new InvalidOptionError('owner', 'must be a string of 1 to 200 characters');
  }
  checkLeaseMs(leaseMs);
  if (host !== undefined) checkHostName('host', host);
  return host === undefined
    ? { queues: unique, limit, owner, leaseMs, takeoverAfterMs }
    : { queues: unique, limit, owner, leaseMs, host, takeoverAfterMs };
}

/** A host name as claims carry it and jobs are pinned to: a string of 1 to 255 characters. */
export function checkHostName(option: string, host: unknown): string {
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) {
    throw new InvalidOptionError(option, 'must be a string of 1 to 255 characters');
  }
  return host;
}

const OUTCOME_KINDS: ReadonlySet<string> = new Set(['done', 'retry', 'failed', 'released']);

/** Checks an outcome batch: an array of known kinds, each `retry` with a storable runAt. */
export function checkOutcomes(outcomes: readonly JobOutcome[]): void {
  if (!isArray(outcomes)) throw new InvalidOptionError('outcomes', 'must be an array');
  outcomes.forEach((o, i) => {
    if (o === null || typeof o !== 'object' || !OUTCOME_KINDS.has(o.kind)) {
      throw new InvalidOptionError(`outcomes[${i}].kind`, 'must be one of done, retry, failed, released');
    }
    if (o.kind === 'retry') checkDate(`outcomes[${i}].runAt`, o.runAt);
    if (o.kind === 'done') checkResultText(`outcomes[${i}].result`, o.result);
    if (o.logs !== undefined) checkLogLines(`outcomes[${i}].logs`, o.logs);
  });
}

/** Checks an extendLeases call: an array of leases and a lease length (see checkLeaseMs). */
export function checkExtendLeases(leases: readonly JobLease[], leaseMs: number): void {
  if (!Array.isArray(leases)) throw new InvalidOptionError('leases', 'must be an array');
  checkLeaseMs(leaseMs);
}

/** Checks progress: a finite number or a plain object (stored as JSON), and its message; answers the message. */
export function checkProgress(progress: JobProgress, message?: unknown): string | null {
  const isNumber = typeof progress === 'number' && Number.isFinite(progress);
  const isObject = typeof progress === 'object' && progress !== null && !Array.isArray(progress);
  if (!isNumber && !isObject) throw new InvalidOptionError('progress', 'must be a finite number or a plain object');
  return checkProgressMessage(message);
}
