import type { SchemaNames } from '../identifiers.js';
import { BASE_JOB_COLUMNS, FLOW_JOB_COLUMNS, T, type BuiltStatement, type Param } from './common.js';
// ---------------------------------------------------------------------------------------------
// Enqueue

/** A job as the insert statement binds it (serialized by the writer). */
export interface JobRowInput {
  id: string;
  queue: string;
  target: string;
  method: string;
  args: string;
  runAt: Date | null;
  maxAttempts: number;
  retry: string;
  metadata: string;
  uniqueKey: string | null;
  pinnedHost: string | null;
  // migration 4: where the job starts (the writer decides it, see flow-insert.ts) and its flow columns
  status: 'new' | 'waiting' | 'cancelled';
  waitingFor: 'parents' | 'slot' | null;
  /** JSON of the DependencyError of a job its parents cancelled before it was added. */
  lastError: string | null;
  priority: number;
  uniqueScope: string;
  uniqueHeld: boolean;
  /** JobAfter JSON, or null. */
  after: string | null;
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
  alreadyRunning: string | null;
  sequenceName: string | null;
  sequenceRun: string | null;
  sequenceStep: string | null;
}

export const INSERT_PARAMS_PER_JOB = 24;

/**
 * insertJobs — why: one multi-row INSERT ... SELECT FROM (VALUES ...) per chunk, so a job (or a batch)
 * is one round trip with no "inserting" state. A row whose unique key is already held is filtered out
 * by NOT EXISTS under (UPDLOCK, HOLDLOCK): the key-range lock makes a concurrent insert of the same key
 * wait for us instead of racing past the check; 2627/2601 are still caught by the writer as the
 * backstop (not MERGE, whose upsert races are well documented). A row whose id already exists is
 * skipped too, so re-running the statement after a connection dropped mid-commit is harmless. The
 * second statement, in the same round trip, reads which of the chunk's ids now exist and who holds
 * the chunk's unique keys: that answers every job's id. Within-chunk duplicate keys are removed by
 * the writer before this is built.
 *
 * Migration 4: each row carries the status the writer placed it in (`new`, `waiting` for parents or a
 * slot, or `cancelled` by parents already final, with its error and finished_at), and its flow
 * columns. Only held keys count (`unique_held = 1`, the filtered unique index's predicate written
 * as the same literal so the index matches): a key a job let go (UniqueScope) is free again.
 */
export function insertJobs(n: SchemaNames, jobs: readonly JobRowInput[]): BuiltStatement {
  const params: Param[] = [];
  const rows = jobs.map((j, i) => {
    const p = (name: string, type: Param['type'], value: unknown) => {
      params.push({ name: `${name}${i}`, type, value });
      return `@${name}${i}`;
    };
    return `(${[
      p('id', T.id, j.id),
      p('q', T.queue, j.queue),
      p('tg', T.name, j.target),
      p('m', T.name, j.method),
      p('a', T.text, j.args),
      p('r', T.time, j.runAt),
      p('ma', T.int, j.maxAttempts),
      p('rp', T.text, j.retry),
      p('md', T.text, j.metadata),
      p('uk', T.uniqueKey, j.uniqueKey),
      p('ph', T.host, j.pinnedHost),
      p('st', T.status, j.status),
      p('wf', T.status, j.waitingFor),
      p('le', T.text, j.lastError),
      p('pr', T.priority, j.priority),
      p('us', T.scope, j.uniqueScope),
      p('uh', T.bit, j.uniqueHeld),
      p('af', T.text, j.after),
      p('ck', T.concurrencyKey, j.concurrencyKey),
      p('cl', T.int, j.concurrencyLimit),
      p('ar', T.policy, j.alreadyRunning),
      p('sn', T.name, j.sequenceName),
      p('sr', T.id, j.sequenceRun),
      p('ss', T.name, j.sequenceStep),
    ].join(', ')})`;
  });
  const ids = jobs.map((_, i) => `@id${i}`);
  const keyed = jobs.flatMap((j, i) => (j.uniqueKey === null ? [] : [`@uk${i}`]));
  return {
    name: 'insertJobs',
    usesNow: true,
    params,
    text: `
INSERT INTO ${n.jobs} (${BASE_JOB_COLUMNS.join(', ')}, pinned_host, ${FLOW_JOB_COLUMNS.join(', ')})
SELECT v.id, v.queue, v.target, v.method, v.args, v.status, COALESCE(v.run_at, @now), 0, v.max_attempts, v.retry,
       v.last_error, NULL, NULL, NULL, NULL, v.metadata, v.unique_key, @now, @now,
       CASE WHEN v.status = 'cancelled' THEN @now END, v.pinned_host,
       v.priority, v.unique_scope, v.unique_held, v.after_json, v.waiting_for, v.concurrency_key, v.concurrency_limit,
       v.already_running, v.sequence_name, v.sequence_run, v.sequence_step
FROM (VALUES ${rows.join(',\n  ')}) AS v (id, queue, target, method, args, run_at, max_attempts, retry, metadata, unique_key, pinned_host,
  status, waiting_for, last_error, priority, unique_scope, unique_held, after_json, concurrency_key, concurrency_limit,
  already_running, sequence_name, sequence_run, sequence_step)
WHERE NOT EXISTS (SELECT 1 FROM ${n.jobs} AS d WHERE d.id = v.id)
  AND (v.unique_key IS NULL
       OR NOT EXISTS (SELECT 1 FROM ${n.jobs} AS x WITH (UPDLOCK, HOLDLOCK) WHERE x.unique_key = v.unique_key AND x.unique_held = 1));
SELECT h.id, h.unique_key FROM ${n.jobs} AS h
WHERE h.id IN (${ids.join(', ')})${keyed.length === 0 ? '' : ` OR (h.unique_key IN (${keyed.join(', ')}) AND h.unique_held = 1)`};`,
  };
}
