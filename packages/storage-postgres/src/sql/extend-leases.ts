import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * Heartbeat for running jobs: all of an executor's leases in one statement, fenced like outcomes
 * (same token, still processing, not yet expired: a lease that lapsed may already be someone else's).
 * Idempotent, so a retry after a dropped connection is harmless. "Still processing" is
 * `lease_expires_at > now` (NULL in every other status): see record-outcomes.ts for why.
 *
 * $1 now, $2 ids, $3 tokens, $4 lease ms.
 */
export function extendLeases({ s, statement }: SqlContext): Statement {
  return statement(
    'extend_leases',
    `UPDATE ${s}.jobs j
        SET lease_expires_at = ${NOW_SQL} + $4::float8 * interval '1 millisecond'
       FROM unnest($2::uuid[], $3::text[]) AS l(id, token)
      WHERE j.id = l.id AND j.lease_token = l.token
        AND j.lease_expires_at > ${NOW_SQL}
     RETURNING j.id, l.token`,
  );
}
