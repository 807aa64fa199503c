import { readFile } from 'node:fs/promises';
import {
  InvalidOptionError,
  isFinalStatus,
  StorageUnavailableError,
  type CheckedJobFilter,
  type CheckedPurgeFilter,
  type JobCount,
  type JobRecord,
  type JobRun,
  type JobStatus,
  type StoredLogLine,
  pageRuns,
  withDerivedRun,
} from '@oddjob/core';
import { decodeContent, toRecord, type JobContent } from './content.js';
import { isMissing } from './durable.js';
import { PROVIDER } from './errors.js';
import { fsOps } from './fs-ops.js';
import { keyFile } from './insert.js';
import { FINAL_DIRS, STATE_DIRS, type StateDir } from './layout.js';
import { afterEnd } from './flow-end.js';
import { settleParent, pendingParents } from './deps.js';
import { requeueKeyed } from './requeue-keyed.js';
import {
  endedName,
  requeuedName,
  formatName,
  ID_PATTERN,
  lastRunOf,
  statusOf,
  type FinalName,
  type ParsedName,
} from './job-names.js';
import { readLogs } from './logs-file.js';
import { appendEndedRunAfter, readRuns } from './runs-file.js';
import type { Located, StoreContext } from './store-context.js';

/** How often an admin write retries after the job moved under it (a claim, an extension). */
const MOVE_RETRIES = 20;

function dirsFor(statuses: readonly JobStatus[] | undefined): StateDir[] {
  if (statuses === undefined) return [...STATE_DIRS];
  const dirs = new Set<StateDir>();
  for (const s of statuses) {
    dirs.add(s === 'new' || s === 'retry' ? 'ready' : s === 'processing' ? 'running' : s);
  }
  return [...dirs];
}

async function queuesFor(ctx: StoreContext, queue: string | undefined): Promise<string[]> {
  return queue === undefined ? ctx.listQueues() : [queue];
}

/** A job's record from its content and name, the host behind the name's tag looked up. */
export async function recordOf(ctx: StoreContext, content: JobContent, name: ParsedName): Promise<JobRecord> {
  return toRecord(content, name, await ctx.hosts.nameOf(lastRunOf(name).hostTag));
}

export async function getJob(
  ctx: StoreContext,
  id: string,
  options: { runs?: boolean } = {},
): Promise<JobRecord | null> {
  if (typeof id !== 'string') throw new InvalidOptionError('id', 'must be a string');
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  for (let i = 0; i < MOVE_RETRIES; i++) {
    const loc = await ctx.locate(id);
    if (!loc) return null;
    const content = await ctx.readOrQuarantine(loc.queue, loc.state, loc.name);
    if (!content) continue; // moved between the listing and the read (or was corrupt and is now in corrupt/): look again
    const record = await recordOf(ctx, content, loc.parsed);
    if (options.runs === true) record.runs = withDerivedRun(await readRuns(ctx, id), record).slice(0, 1000);
    return record;
  }
  return null;
}

/** `filter` is what core's checkRunFilter answered. Stored runs plus the one the job's name derives. */
export async function listRuns(
  ctx: StoreContext,
  jobId: string,
  filter: { limit: number; offset: number },
): Promise<JobRun[]> {
  if (typeof jobId !== 'string') throw new InvalidOptionError('jobId', 'must be a string');
  const job = await getJob(ctx, jobId);
  if (job === null) return [];
  return pageRuns(withDerivedRun(await readRuns(ctx, jobId), job), filter.offset, filter.limit);
}

/** `filter` is what core's checkLogFilter answered. A job without a log (or unknown) has []. */
export async function listLogs(
  ctx: StoreContext,
  jobId: string,
  filter: { attempt: number | undefined; afterSeq: number; limit: number },
): Promise<StoredLogLine[]> {
  if (typeof jobId !== 'string') throw new InvalidOptionError('jobId', 'must be a string');
  // Not a file name this store writes: no job has it, so it has no log (and must not reach a path).
  if (!ID_PATTERN.test(jobId)) return [];
  return readLogs(ctx, jobId, filter);
}

/** `filter` is what core's checkJobFilter answered (the store does the check). */
export async function listJobs(ctx: StoreContext, filter: CheckedJobFilter): Promise<JobRecord[]> {
  const { statuses, afterId, offset, limit } = filter;
  const found: (Located & { state: StateDir })[] = [];
  for (const queue of await queuesFor(ctx, filter.queue)) {
    for (const state of dirsFor(statuses)) {
      for (const loc of await ctx.listState(queue, state)) {
        // The id is in the file name, so afterId drops files before any is opened.
        if (afterId !== undefined && loc.parsed.id <= afterId) continue;
        if (statuses === undefined || statuses.includes(statusOf(loc.parsed))) found.push({ ...loc, state });
      }
    }
  }
  found.sort((a, b) => (a.parsed.id < b.parsed.id ? -1 : a.parsed.id > b.parsed.id ? 1 : 0));
  const out: JobRecord[] = [];
  // Without a target filter only the page's files are opened; with one, files are read in id order
  // until the page is full.
  let skipped = 0;
  for (const loc of found) {
    if (out.length >= limit) break;
    // Filters on the content (target, sequence) open files in id order until the page is full.
    const byContent = filter.target !== undefined || filter.sequenceRun !== undefined || filter.sequence !== undefined;
    if (!byContent && skipped < offset) {
      skipped++;
      continue;
    }
    const content = await ctx.readOrQuarantine(loc.queue, loc.state, loc.name);
    if (
      !content ||
      (filter.target !== undefined && content.target !== filter.target) ||
      (filter.sequenceRun !== undefined && content.sequence?.run !== filter.sequenceRun) ||
      (filter.sequence !== undefined && content.sequence?.name !== filter.sequence)
    )
      continue;
    if (skipped < offset) {
      skipped++;
      continue;
    }
    out.push(await recordOf(ctx, content, loc.parsed));
  }
  return out;
}

export async function countJobs(ctx: StoreContext, queue_: string | undefined): Promise<JobCount[]> {
  const counts: JobCount[] = [];
  for (const queue of await queuesFor(ctx, queue_)) {
    const byStatus = new Map<JobStatus, number>();
    for (const state of dirsFor(undefined)) {
      for (const loc of await ctx.listState(queue, state)) {
        const s = statusOf(loc.parsed);
        byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
      }
    }
    for (const [status, count] of byStatus) counts.push({ queue, status, count });
  }
  return counts;
}

/**
 * Moves a job by rename to `to(current)`, retrying when it moved under us. `allowed` decides from
 * the current state whether the move applies; false when it does not or the job is unknown.
 */
async function moveJob(
  ctx: StoreContext,
  id: string,
  allowed: (p: ParsedName) => boolean,
  to: (p: ParsedName, now: number) => ParsedName,
): Promise<{ from: Located & { state: StateDir }; to: Located } | null> {
  if (typeof id !== 'string') throw new InvalidOptionError('id', 'must be a string');
  for (let i = 0; i < MOVE_RETRIES; i++) {
    const loc = await ctx.locate(id);
    if (!loc || !allowed(loc.parsed)) return null;
    const target = to(loc.parsed, ctx.nowMs());
    const name = formatName(target);
    try {
      await fsOps.rename(
        ctx.layout.file(loc.queue, loc.state, loc.name),
        ctx.layout.file(loc.queue, target.state, name),
      );
    } catch (err) {
      if (isMissing(err)) continue;
      throw err;
    }
    ctx.runningNames.delete(id);
    await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, loc.state), ctx.layout.stateDir(loc.queue, target.state)]);
    return { from: loc, to: { queue: loc.queue, name, parsed: target } };
  }
  // Transient by nature: the job is busy (claimed, extended) right now; a later call gets through.
  throw new StorageUnavailableError(
    PROVIDER,
    'moveJob',
    `file store ${ctx.layout.root}: job ${id} kept moving while it was being changed (${MOVE_RETRIES} tries); try again`,
  );
}

export async function cancelJob(ctx: StoreContext, id: string): Promise<boolean> {
  const moved = await moveJob(
    ctx,
    id,
    (p) => !isFinalStatus(statusOf(p)),
    (p, now) => endedName(p, 'cancelled', now),
  );
  if (moved === null) return false;
  const { from, to } = moved;
  const ended = to.parsed as FinalName;
  await afterEnd(
    ctx,
    [{ queue: to.queue, name: to.name, parsed: ended, heldKey: from.parsed.holds !== null }],
    'cancelJob',
  );
  if (from.parsed.state === 'running') {
    // The running attempt ends as cancelled. The rename did not change the content: read it where it is now.
    const content = await ctx.readOrQuarantine(to.queue, to.parsed.state, to.name);
    const finishedAt = (to.parsed as FinalName).finishedAt;
    if (content)
      await appendEndedRunAfter(ctx, {
        content,
        name: from.parsed,
        key: from.parsed.token,
        state: 'cancelled',
        error: null,
        finishedAt,
      });
  }
  ctx.jobsFinished([id]);
  return true;
}

/** `runAt` is what core's checkRequeueOptions answered: a storable Date, or undefined for now. */
export async function requeueJob(ctx: StoreContext, id: string, runAt: Date | undefined): Promise<boolean> {
  // What its end decided stays decided: its children are settled before it leaves its final state.
  if ((await pendingParents(ctx)).has(id)) await settleParent(ctx, id);
  const keyed = await ctx.locate(id);
  if (keyed !== null && keyed.parsed.keyed && isFinalStatus(statusOf(keyed.parsed)))
    return requeueKeyed(ctx, keyed, runAt);
  const moved = await moveJob(
    ctx,
    id,
    (p) => isFinalStatus(statusOf(p)),
    (p, now) => requeuedName(p, runAt?.getTime() ?? now, now),
  );
  if (moved === null) return false;
  const { from, to } = moved;
  if (from.parsed.state === 'done') {
    // A done run was derived from the name the requeue just replaced: it becomes a record now.
    const content = await ctx.readOrQuarantine(to.queue, 'ready', to.name);
    const finishedAt = from.parsed.finishedAt;
    if (content)
      await appendEndedRunAfter(ctx, {
        content,
        name: from.parsed,
        key: `done@${finishedAt}`,
        state: 'done',
        error: null,
        finishedAt,
      });
  }
  ctx.notify([to.queue]);
  return true;
}

/**
 * Deletes final jobs. The unique key goes first (if this job holds it), then the file: a crash in
 * between leaves a finished job whose key is free, never a key held by a job that no longer exists.
 * `filter` is what core's checkPurgeFilter answered (the store does the check).
 */
export async function purgeJobs(ctx: StoreContext, filter: CheckedPurgeFilter): Promise<number> {
  const before = filter.finishedBefore?.getTime();
  let n = 0;
  for (const queue of await queuesFor(ctx, filter.queue)) {
    for (const state of FINAL_DIRS) {
      if (!filter.statuses.includes(state)) continue;
      const doomed: { name: string; key: string | null; id: string }[] = [];
      for (const loc of await ctx.listState(queue, state)) {
        const p = loc.parsed as Extract<ParsedName, { finishedAt: number }>;
        if (before !== undefined && !(p.finishedAt < before)) continue;
        const content = await ctx.readOrQuarantine(queue, state, loc.name);
        if (content) doomed.push({ name: loc.name, key: content.uniqueKey, id: content.id });
      }
      if (doomed.length === 0) continue;
      // A parent's end is recorded on its waiting children before the parent can go.
      const pending = await pendingParents(ctx);
      for (const d of doomed) if (pending.has(d.id)) await settleParent(ctx, d.id, { status: state });
      let keysFreed = false;
      for (const d of doomed) {
        if (d.key === null) continue;
        const path = keyFile(ctx, d.key);
        const holder = await readFile(path, 'utf8').then(
          (t) => decodeContent(t).id,
          () => null,
        );
        if (holder !== d.id) continue;
        await fsOps.unlink(path).catch((err) => {
          if (!isMissing(err)) throw err;
        });
        keysFreed = true;
      }
      if (keysFreed) await ctx.syncer.sync(ctx.layout.unique);
      const gone: string[] = [];
      for (const d of doomed) {
        try {
          await fsOps.unlink(ctx.layout.file(queue, state, d.name));
          gone.push(d.id);
          n++;
        } catch (err) {
          if (!isMissing(err)) throw err; // requeued or purged by someone else meanwhile
        }
      }
      await ctx.syncer.sync(ctx.layout.stateDir(queue, state));
      // History after the job: a job requeued meanwhile (its unlink failed) keeps its history; a
      // crash in between leaves an orphan history file, which no job id will ever name again.
      await removeHistory(ctx, gone);
      ctx.jobsFinished(gone);
    }
  }
  return n;
}

/** Deletes the runs and logs of purged jobs (missing files are fine: most jobs have neither). */
async function removeHistory(ctx: StoreContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const unlinkIfThere = (path: string) =>
    fsOps.unlink(path).catch((err: unknown) => {
      if (!isMissing(err)) throw err;
    });
  await Promise.all(
    ids.flatMap((id) => [unlinkIfThere(ctx.layout.runsFile(id)), unlinkIfThere(ctx.layout.logsFile(id))]),
  );
  await ctx.syncer.syncAll([ctx.layout.runs, ctx.layout.logs]);
}
