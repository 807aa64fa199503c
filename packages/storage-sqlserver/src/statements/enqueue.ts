import type { SchemaNames } from '../identifiers.js';
import { BASE_JOB_COLUMNS, T, type BuiltStatement, type Param } from './common.js';
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
}

export const INSERT_PARAMS_PER_JOB = 11;

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
    ].join(', ')})`;
  });
  const ids = jobs.map((_, i) => `@id${i}`);
  const keyed = jobs.flatMap((j, i) => (j.uniqueKey === null ? [] : [`@uk${i}`]));
  return {
    name: 'insertJobs',
    usesNow: true,
    params,
    text: `
INSERT INTO ${n.jobs} (${BASE_JOB_COLUMNS.join(', ')}, pinned_host)
SELECT v.id, v.queue, v.target, v.method, v.args, 'new', COALESCE(v.run_at, @now), 0, v.max_attempts, v.retry,
       NULL, NULL, NULL, NULL, NULL, v.metadata, v.unique_key, @now, @now, NULL, v.pinned_host
FROM (VALUES ${rows.join(',\n  ')}) AS v (id, queue, target, method, args, run_at, max_attempts, retry, metadata, unique_key, pinned_host)
WHERE NOT EXISTS (SELECT 1 FROM ${n.jobs} AS d WHERE d.id = v.id)
  AND (v.unique_key IS NULL
       OR NOT EXISTS (SELECT 1 FROM ${n.jobs} AS x WITH (UPDLOCK, HOLDLOCK) WHERE x.unique_key = v.unique_key));
SELECT h.id, h.unique_key FROM ${n.jobs} AS h
WHERE h.id IN (${ids.join(', ')})${keyed.length === 0 ? '' : ` OR h.unique_key IN (${keyed.join(', ')})`};`,
  };
}
