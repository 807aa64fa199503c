import { attemptedRunAt, checkAttemptedJobs, InvalidOptionError, type AttemptedJob, type JobError } from '@oddjob/core';
import { checkOwnerFits } from './claim.js';
import { describeCondition, toStoreError } from './errors.js';
import { releaseUniques } from './unique-scope.js';
import { checkJobs, newContent, placeJobs, type Placement } from './insert.js';
import type { FinalName, ReadyName } from './job-names.js';
import { appendLogLines } from './logs-file.js';
import { appendEndedRun } from './runs-file.js';
import type { StoreContext } from './store-context.js';

/**
 * insertAttempted: a job whose attempt 1 ran in this process is written as insertJobs writes a job
 * (content fsynced in tmp/, key linked, one rename into place, directories fsynced) but with that
 * attempt in its content (error, result) and its name (attempts 1, the attempt's start, executor and
 * host), and in the directory its outcome says: ready/ (retry), failed/ or done/. Its run record
 * (retry, failed; a done run is read off the name) is appended, fsynced, after its key is taken and
 * before its name appears, so a job never exists without attempt 1; log lines are appended then too,
 * without fsync, like every log line. A failure takes the batch back as insertJobs does, and removes
 * the history it wrote.
 */
export async function insertAttempted(ctx: StoreContext, entries: readonly AttemptedJob[]): Promise<string[]> {
  checkAttemptedJobs(entries);
  const jobs = entries.map((e) => e.job);
  checkJobs(jobs);
  entries.forEach((e, i) => {
    try {
      checkOwnerFits(e.owner);
    } catch (err) {
      throw new InvalidOptionError(`entries[${i}].owner`, (err as Error).message);
    }
  });
  if (entries.length === 0) return [];
  const now = ctx.nowMs();
  let hostTags: string[];
  try {
    // Each host's file is written (durably) before a name carrying its tag can appear.
    hostTags = await Promise.all(entries.map((e) => (e.host ? ctx.hosts.tagFor(e.host) : Promise.resolve(''))));
  } catch (err) {
    throw toStoreError(ctx.layout.root, 'insertAttempted', err, `none of the ${entries.length} job(s) was stored`);
  }
  const items = entries.map((e, i) => placement(ctx, e, hostTags[i], now));
  const ids = await placeJobs(ctx, 'insertAttempted', now, items);
  ctx.jobsFinished(items.filter((p) => p.state !== 'ready').map((p) => p.job.id));
  // Scoped unique keys whose scope already ended (the names above carry no flag for them).
  await releaseUniques(
    ctx,
    items
      .filter((p, i) => ids[i] === p.job.id && p.content.uniqueScope !== 'stored' && p.name.holds === null)
      .map((p) => ({ id: p.job.id, key: p.job.uniqueKey })),
  );
  return ids;
}

function placement(ctx: StoreContext, e: AttemptedJob, hostTag: string, now: number): Placement {
  const { job, outcome } = e;
  const run = { startedAt: e.startedAt.getTime(), executor: e.owner, hostTag, progress: false };
  const pinned = (job.pinnedHost ?? null) !== null;
  const runAt = attemptedRunAt(e).getTime();
  const base = newContent(job, now);
  let error: JobError | null = null;
  let p: Placement;
  switch (outcome.kind) {
    case 'retry': {
      error = { ...outcome.error };
      const name: ReadyName = {
        state: 'ready',
        runAt,
        id: job.id,
        status: 'retry',
        attempts: 1,
        updatedAt: now,
        ...run,
        pinned,
        // Attempt 1 was its claim: a 'queued' key is let go at once; it takes no key slot (as on
        // the memory store, a job that ran before it was stored is not admitted through its key).
        priority: base.priority,
        keyed: false,
        holds: job.uniqueKey !== null && base.uniqueScope === 'unfinished' ? 'unfinished' : null,
      };
      p = { job, content: { ...base, lastError: error }, state: 'ready', name };
      break;
    }
    case 'failed':
    case 'done': {
      const result = outcome.kind === 'done' ? (outcome.result ?? null) : null;
      if (outcome.kind === 'failed') error = { ...outcome.error };
      const name: FinalName = {
        state: outcome.kind,
        finishedAt: e.finishedAt.getTime(),
        id: job.id,
        attempts: 1,
        runAt,
        ...run,
        result: result !== null,
        pinned,
        priority: base.priority,
        keyed: false,
        holds: null,
        decided: null,
      };
      p = { job, content: { ...base, lastError: error, result }, state: outcome.kind, name };
      break;
    }
  }
  const state = outcome.kind;
  p.history = async () => {
    if (state !== 'done')
      await appendEndedRun(ctx, {
        content: p.content,
        name: p.name,
        key: `inserted@${job.id}`,
        state,
        error,
        finishedAt: e.finishedAt.getTime(),
      });
    if (e.logs !== undefined && e.logs.length > 0) await appendAttemptLogs(ctx, job.id, e.logs);
  };
  return p;
}

/** Log lines are not acknowledged writes (logs-file.ts): one that cannot be appended is reported. */
async function appendAttemptLogs(ctx: StoreContext, id: string, logs: AttemptedJob['logs'] & object): Promise<void> {
  try {
    await appendLogLines(ctx, id, 1, logs);
  } catch (err) {
    const path = ctx.layout.logsFile(id);
    ctx.problems.report(
      'unrecorded',
      path,
      `job ${id}: ${logs.length} log line(s) of its attempt 1 could not be appended to ${path} (${describeCondition(err)}); the job was stored`,
      toStoreError(ctx.layout.root, 'appendLogs', err),
    );
  }
}
