import { attemptedRunAt, checkAttemptedJobs, type AttemptedJob } from '@oddjob/core';
import type { PgOps } from './admin-ops.js';
import { insertJobs } from './insert-jobs.js';
import { errorJson } from './rows.js';

/**
 * insertAttempted: one transaction per call. The jobs go in through insertJobs' own statement (due
 * at their final run time, no wake-up), unique keys resolved as there; then sql/insert-attempted.ts
 * gives the rows that went in the state their attempt 1 left them in, with its run and log lines.
 * Nobody sees a `new` row in between (the transaction commits both or neither), and a transient
 * failure runs the whole transaction again; the second statement leaves rows an earlier try
 * committed alone, so a retried call writes each job's history once.
 */
export async function insertAttempted(ops: PgOps, entries: readonly AttemptedJob[]): Promise<string[]> {
  checkAttemptedJobs(entries);
  if (entries.length === 0) return [];
  const jobs = entries.map((e) => ({ ...e.job, runAt: attemptedRunAt(e) }));
  return ops.db.transaction('insert attempted jobs', async (client) => {
    const ids = await insertJobs(ops, jobs, client, false);
    const mine = entries.filter((e, i) => ids[i] === e.job.id);
    if (mine.length === 0) return ids;
    const rows = mine.map((e) => {
      const o = e.outcome;
      return {
        id: e.job.id,
        kind: o.kind,
        started_at: e.startedAt.toISOString(),
        finished_at: e.finishedAt.toISOString(),
        owner: e.owner,
        host: e.host ?? null,
        error: o.kind === 'done' ? null : (JSON.parse(errorJson(o.error)) as unknown),
        run_at: attemptedRunAt(e).toISOString(),
        result: o.kind === 'done' ? (o.result ?? null) : null,
        logged: (e.logs?.length ?? 0) > 0,
      };
    });
    const lines = mine.flatMap((e) =>
      (e.logs ?? []).map((l, n) => ({ id: e.job.id, n, at: l.at.toISOString(), level: l.level, message: l.message })),
    );
    await ops.db.runOn(client, 'insert attempted jobs', ops.sql.recordAttempted, [
      ops.now(),
      JSON.stringify(rows),
      JSON.stringify(lines),
      ops.notify,
    ]);
    return ids;
  });
}
