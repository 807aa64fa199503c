// The memory store's ended runs and log lines per job. Kept apart from memory-store.ts because it is
// a store of its own (appended to, read back by filter, dropped with a purged job) that the job
// lifecycle only feeds; the SQL stores keep it in tables of its own for the same reason.
import type { JobLogLine, JobRun, RunState, StoredLogLine } from '../history.js';
import { endedRun } from '../runs.js';
import { copy, type StoredJob } from './stored-job.js';

/** What the memory store keeps beside a job: its ended runs and its log. */
interface History {
  runs: JobRun[];
  logs: StoredLogLine[];
}

export class JobHistory {
  /** Runs and logs per job id; only jobs that ever wrote one have an entry (a first-time success never does). */
  private readonly byJob = new Map<string, History>();
  private logSeq = 0;

  /** Writes the run record of the job's current attempt (see runs.ts for when one is written). */
  endRun(job: StoredJob, state: Exclude<RunState, 'running'>, error: JobRun['error'], finishedAt: Date): void {
    const run = endedRun(copy(job), state, error, finishedAt);
    if (run !== null) this.of(job.id).runs.push(run);
  }

  appendLines(job: StoredJob, lines: readonly JobLogLine[]): void {
    if (lines.length === 0) return;
    const logs = this.of(job.id).logs;
    for (const l of lines)
      logs.push({
        jobId: job.id,
        attempt: job.attempts,
        seq: ++this.logSeq,
        at: new Date(l.at),
        level: l.level,
        message: l.message,
      });
  }

  /** The job's ended runs as stored (not copies: the caller copies what it hands out). */
  runs(jobId: string): readonly JobRun[] {
    return this.byJob.get(jobId)?.runs ?? [];
  }

  /** Copies of the job's log lines after `afterSeq`, of one attempt if asked, at most `limit`. */
  logs(jobId: string, filter: { attempt: number | undefined; afterSeq: number; limit: number }): StoredLogLine[] {
    const { attempt, afterSeq, limit } = filter;
    const logs = this.byJob.get(jobId)?.logs ?? [];
    return logs
      .filter((l) => l.seq > afterSeq && (attempt === undefined || l.attempt === attempt))
      .slice(0, limit)
      .map((l) => ({ ...l, at: new Date(l.at) }));
  }

  delete(jobId: string): void {
    this.byJob.delete(jobId);
  }

  private of(id: string): History {
    let h = this.byJob.get(id);
    if (!h) this.byJob.set(id, (h = { runs: [], logs: [] }));
    return h;
  }
}
