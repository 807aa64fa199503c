import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * A running job's progress. Touches no indexed column, so PostgreSQL can make it a HOT update (the
 * table's fillfactor leaves room for that). Fenced by the lease.
 *
 * The message (or NULL) is replaced with the progress: a report without one clears the last.
 *
 * $1 now, $2 id, $3 token, $4 progress json, $5 message or NULL.
 */
export function reportProgress({ s, statement }: SqlContext): Statement {
  return statement(
    'report_progress',
    `UPDATE ${s}.jobs
        SET progress = $4::jsonb, progress_message = $5::text, updated_at = ${NOW_SQL}
      WHERE id = $2 AND lease_token = $3 AND lease_expires_at > ${NOW_SQL}
     RETURNING id`,
  );
}
