import type { SchemaNames } from '../identifiers.js';
import { JOB_COLUMNS, RUN_COLUMNS, T, type BuiltStatement } from './common.js';
// ---------------------------------------------------------------------------------------------
// Run history: the read of a job's runs (the writes are part of the statements that end attempts,
// built from the pieces in helpers.ts)

/**
 * listRuns — why: one round trip answers a page of runs. The stored runs are read in core's run
 * order (started_at, then attempt; seq keeps records of one start time in write order), paged with
 * OFFSET/FETCH; the job row (for the derived run, which core puts after every stored one) and the
 * number of stored runs (which says whether the derived run falls on this page) come in the same
 * batch. The caller never sends limit 0 (FETCH NEXT 0 ROWS is an error).
 */
export function listRuns(n: SchemaNames, jobId: string, page: { offset: number; limit: number }): BuiltStatement {
  return {
    name: 'listRuns',
    usesNow: false,
    params: [
      { name: 'id', type: T.id, value: jobId },
      { name: 'offset', type: T.int, value: page.offset },
      { name: 'limit', type: T.int, value: page.limit },
    ],
    text: `
SELECT ${JOB_COLUMNS.join(', ')} FROM ${n.jobs} WHERE id = @id;
SELECT COUNT(*) AS n FROM ${n.runs} WHERE job_id = @id;
SELECT ${RUN_COLUMNS.join(', ')} FROM ${n.runs} WHERE job_id = @id
ORDER BY started_at, attempt, seq OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY;`,
  };
}
