/**
 * A new job as the insert binds it, with the flow columns of migration 4 (core's flow.ts): where it
 * starts, whether it holds its unique key; and the checked read of a row's flow columns. Apart from
 * row-mapping.ts, which reads every other column back, because these change with the flow rules.
 */
import {
  ALREADY_RUNNING_POLICIES,
  CorruptJobError,
  UNIQUE_SCOPES,
  type JobAfter,
  type JobConcurrency,
  type JobRecord,
  type NewJob,
  type UniqueScope,
  type WaitingFor,
} from '@oddjob/core';
import type { JobRow } from './row-mapping.js';
import type { JobRowInput } from './statements.js';

function parse<T>(text: string, what: string, id: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptJobError(id, `column ${what} is not valid JSON`, { cause: err });
  }
}

/**
 * Where a new job starts, as the writer decided it (flow-insert.ts): `new`, `waiting` (for parents or
 * a slot), or `cancelled` by parents that were already final (with its DependencyError).
 */
export interface Placement {
  status: 'new' | 'waiting' | 'cancelled';
  waitingFor: WaitingFor | null;
  /** JSON of the DependencyError of a job cancelled at insert; null otherwise. */
  lastError: string | null;
}

export const PLAIN_PLACEMENT: Placement = Object.freeze({ status: 'new', waitingFor: null, lastError: null });

/**
 * Whether a job still holds its unique key in the state it is written in: a job cancelled at insert
 * never waited or ran, so 'queued' and 'unfinished' keys are let go at once; 'stored' keeps it.
 */
export function holdsUniqueKey(scope: UniqueScope, status: Placement['status']): boolean {
  return status !== 'cancelled' || scope === 'stored';
}

/** The flow columns of a row (migration 4), checked: a value no write of this package makes is corrupt. */
export function flowOf(
  row: JobRow,
  id: string,
): Pick<JobRecord, 'uniqueScope' | 'priority' | 'after' | 'waitingFor' | 'concurrency' | 'sequence'> {
  const scope = row.unique_scope as UniqueScope;
  if (!UNIQUE_SCOPES.includes(scope)) throw new CorruptJobError(id, `unknown unique_scope ${JSON.stringify(scope)}`);
  let waitingFor: WaitingFor | null = null;
  if (row.status === 'waiting') {
    if (row.waiting_for !== 'parents' && row.waiting_for !== 'slot')
      throw new CorruptJobError(id, `unknown waiting_for ${JSON.stringify(row.waiting_for)}`);
    waitingFor = row.waiting_for;
  }
  let concurrency: JobConcurrency | null = null;
  if (row.concurrency_key !== null) {
    const policy = row.already_running as JobConcurrency['alreadyRunning'];
    if (!ALREADY_RUNNING_POLICIES.includes(policy) || typeof row.concurrency_limit !== 'number')
      throw new CorruptJobError(id, 'concurrency_limit or already_running is missing beside concurrency_key');
    concurrency = { key: row.concurrency_key, limit: row.concurrency_limit, alreadyRunning: policy };
  }
  const sequence =
    row.sequence_name !== null && row.sequence_run !== null && row.sequence_step !== null
      ? { name: row.sequence_name, run: row.sequence_run, step: row.sequence_step }
      : null;
  return {
    uniqueScope: scope,
    priority: row.priority,
    after: row.after_json === null ? null : parse<JobAfter>(row.after_json, 'after_json', id),
    waitingFor,
    concurrency,
    sequence,
  };
}

export function jobToRow(job: NewJob, placement: Placement = PLAIN_PLACEMENT): JobRowInput {
  const scope = job.uniqueScope ?? 'stored';
  return {
    id: job.id,
    queue: job.queue,
    target: job.target,
    method: job.method,
    args: job.args,
    runAt: job.runAt,
    maxAttempts: job.retry.maxAttempts,
    retry: JSON.stringify(job.retry),
    metadata: JSON.stringify(job.metadata),
    uniqueKey: job.uniqueKey,
    pinnedHost: job.pinnedHost ?? null,
    status: placement.status,
    waitingFor: placement.waitingFor,
    lastError: placement.lastError,
    priority: job.priority ?? 0,
    uniqueScope: scope,
    uniqueHeld: holdsUniqueKey(scope, placement.status),
    after: job.after == null ? null : JSON.stringify({ rule: job.after.rule, parents: job.after.parents }),
    concurrencyKey: job.concurrency?.key ?? null,
    concurrencyLimit: job.concurrency?.limit ?? null,
    alreadyRunning: job.concurrency?.alreadyRunning ?? null,
    sequenceName: job.sequence?.name ?? null,
    sequenceRun: job.sequence?.run ?? null,
    sequenceStep: job.sequence?.step ?? null,
  };
}
