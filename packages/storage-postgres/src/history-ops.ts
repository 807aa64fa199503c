import {
  checkLogAppends,
  checkLogFilter,
  checkRunFilter,
  pageRuns,
  withDerivedRun,
  type JobRecord,
  type JobRun,
  type LeaseCheck,
  type LogAppend,
  type LogFilter,
  type RunFilter,
  type StoredLogLine,
} from '@oddjob/core';
import type { PgOps } from './admin-ops.js';
import { toJobRecord, toJobRun, toStoredLogLine, type JobRunsRow, type LogRow } from './rows.js';
import { isUuid } from './uuid.js';

/** At most this many runs with getJob(id, { runs: true }) (IJobQueueAdmin says 1000). */
const RUNS_WITH_JOB = 1000;

/** The job's row and its runs (stored + derived, oldest first), from one snapshot; null if unknown. */
async function jobAndRuns(c: PgOps, id: string, stored: number): Promise<{ job: JobRecord; runs: JobRun[] } | null> {
  if (!isUuid(id)) return null;
  const rows = await c.db.run<JobRunsRow>('list runs', c.sql.jobRuns, [id, stored]);
  if (rows.length === 0) return null;
  const job = toJobRecord(rows[0]);
  return {
    job,
    runs: withDerivedRun(
      (rows[0].runs ?? []).map((r) => toJobRun(id, r)),
      job,
    ),
  };
}

/** getJob(id, { runs: true }): the record with its first 1000 runs. */
export async function getJobWithRuns(c: PgOps, id: string): Promise<JobRecord | null> {
  const found = await jobAndRuns(c, id, RUNS_WITH_JOB);
  if (found === null) return null;
  return { ...found.job, runs: pageRuns(found.runs, 0, RUNS_WITH_JOB) };
}

export async function listRuns(c: PgOps, jobId: string, filter?: RunFilter): Promise<JobRun[]> {
  const { limit, offset } = checkRunFilter(filter);
  // Stored runs come first and the derived one last, so a page needs at most offset + limit stored.
  const found = await jobAndRuns(c, jobId, offset + limit);
  return found === null ? [] : pageRuns(found.runs, offset, limit);
}

export async function listLogs(c: PgOps, jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
  const { attempt, afterSeq, limit } = checkLogFilter(filter);
  if (!isUuid(jobId) || limit === 0) return [];
  const rows = await c.db.run<LogRow>('list logs', c.sql.listLogs, [jobId, afterSeq, attempt ?? null, limit]);
  return rows.map(toStoredLogLine);
}

/** appendLogs: every entry in one fenced statement (sql/append-logs.ts). */
export async function appendLogs(c: PgOps, entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
  checkLogAppends(entries);
  const answers: LeaseCheck[] = entries.map(() => 'lease-lost');
  const sent: { i: number; id: string; token: string }[] = [];
  const lines: { i: number; n: number; at: string; level: string; message: string }[] = [];
  entries.forEach((e, i) => {
    // A lease this store never issued cannot be held; an entry without lines still asks about its lease.
    if (!isUuid(e.lease.jobId) || typeof e.lease.token !== 'string') return;
    sent.push({ i, id: e.lease.jobId, token: e.lease.token });
    e.lines.forEach((l, n) => lines.push({ i, n, at: l.at.toISOString(), level: l.level, message: l.message }));
  });
  if (sent.length === 0) return answers;
  const rows = await c.db.run<{ i: number }>('append logs', c.sql.appendLogs, [
    c.now(),
    JSON.stringify(sent),
    JSON.stringify(lines),
  ]);
  for (const r of rows) answers[r.i] = 'ok';
  return answers;
}
