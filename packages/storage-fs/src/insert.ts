import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHostName, InvalidOptionError, isArray, StorageOperationError, type NewJob } from '@oddjob/core';
import { decodeContent, encodeContent, type JobContent } from './content.js';
import { errnoCode, isMissing, rewriteFile, unlinkQuietly, writeTemp } from './durable.js';
import { describeCondition, PROVIDER, toStoreError } from './errors.js';
import { fsOps } from './fs-ops.js';
import type { StateDir } from './layout.js';
import { formatName, ID_PATTERN, NO_RUN, type ParsedName, type ReadyName } from './job-names.js';
import type { FlowFlags } from './name-flags.js';
import { clearStaleKey } from './unique-scope.js';
import { insertFlow } from './insert-flow.js';
import type { StoreContext } from './store-context.js';

export function keyFile(ctx: StoreContext, uniqueKey: string): string {
  return join(ctx.layout.unique, createHash('sha256').update(uniqueKey, 'utf8').digest('hex'));
}

function check(job: NewJob, i: number): void {
  const where = `job ${i} of the batch`;
  if (job === null || typeof job !== 'object') throw new InvalidOptionError('jobs', `${where} is not a job`);
  if (typeof job.id !== 'string' || !ID_PATTERN.test(job.id)) {
    throw new InvalidOptionError(
      'id',
      `${where}: "${String(job.id)}" must match ${ID_PATTERN} to be part of a file name`,
    );
  }
  if (typeof job.queue !== 'string' || job.queue.length === 0 || job.queue.length > 100) {
    throw new InvalidOptionError('queue', `${where}: must be a string of 1 to 100 characters`);
  }
  if (job.runAt !== null && (!(job.runAt instanceof Date) || Number.isNaN(job.runAt.getTime()))) {
    throw new InvalidOptionError('runAt', `${where}: must be a valid Date or null`);
  }
  if (job.pinnedHost !== undefined && job.pinnedHost !== null) checkHostName('pinnedHost', job.pinnedHost);
}

/**
 * Who holds a unique key: the id in the content the key file links to. The key file may vanish
 * between our failed link and this read (a purge freed the key): then null, and the caller retries.
 */
async function keyHolder(ctx: StoreContext, path: string): Promise<string | null> {
  try {
    return decodeContent(await readFile(path, 'utf8')).id;
  } catch (err) {
    if (isMissing(err)) return null;
    throw new StorageOperationError(
      PROVIDER,
      'addJobs',
      `file store ${ctx.layout.root}: unique key file ${path} cannot be read (${describeCondition(err)}); move it aside to free the key`,
      { cause: err },
    );
  }
}

/** What one insert has done so far, per job, so that a failure can take it back. */
interface Progress {
  /** The temp file of each job while it is in tmp/ (null once renamed into ready/). */
  temps: (string | null)[];
  /** Where each job's temp file was written (kept after the rename, to put a job back). */
  tempPaths: (string | null)[];
  /** The ready/ path of each job renamed there. */
  placed: (string | null)[];
  /** The key file each job linked. */
  linked: (string | null)[];
  /** Whether the job's history (runs, logs) was written, to be removed if the job is not kept. */
  histories: boolean[];
}

/**
 * One job to place: its content, the name and directory it appears under, and (for a job whose
 * attempt 1 already ran, see attempted.ts) the history to write once it is known not to be a
 * unique-key duplicate.
 */
export interface Placement {
  job: NewJob;
  content: JobContent;
  state: StateDir;
  name: ParsedName;
  history?: () => Promise<void>;
}

/**
 * Writes new jobs durably. Every job's content is written and fsynced in tmp/ (in parallel), keyed
 * jobs take their keys (in batch order, so that a key repeated within the batch goes to its first
 * job), the key directory is fsynced, then the jobs are renamed into ready/ and those directories are
 * fsynced. Only then does the promise resolve: an acknowledged job survives kill -9 and power loss.
 *
 * A batch is all or nothing wherever the store can make it so: if any step fails (a full disk fails
 * the temp writes), jobs already renamed into ready/ are taken back and the keys they took freed,
 * and the error says so; only a job another process claimed in that instant stays, and the error
 * names it.
 */
export async function insertJobs(ctx: StoreContext, jobs: readonly NewJob[]): Promise<string[]> {
  if (!isArray(jobs)) throw new InvalidOptionError('jobs', 'must be an array');
  jobs.forEach(check);
  if (jobs.length === 0) return [];
  const now = ctx.nowMs();
  const items = jobs.map((job): Placement => {
    const content = newContent(job, now);
    const name: ReadyName = {
      state: 'ready',
      runAt: content.insertedRunAt,
      id: job.id,
      status: 'new',
      attempts: 0,
      updatedAt: now,
      ...NO_RUN,
      pinned: content.pinnedHost !== null,
      ...flowFlagsOf(content),
    };
    return { job, content, state: 'ready', name };
  });
  // Jobs that wait (parents, concurrency keys) take the longer way; a plain batch is as it was.
  if (jobs.some((j) => (j.after ?? null) !== null || (j.concurrency ?? null) !== null))
    return insertFlow(ctx, now, items);
  return placeJobs(ctx, 'addJobs', now, items);
}

/** The content a job is inserted with: nothing of a run yet. */
export function newContent(job: NewJob, now: number): JobContent {
  return {
    id: job.id,
    queue: job.queue,
    target: job.target,
    method: job.method,
    args: job.args,
    retry: job.retry,
    metadata: job.metadata,
    uniqueKey: job.uniqueKey,
    createdAt: now,
    insertedRunAt: job.runAt?.getTime() ?? now,
    lastError: null,
    progress: null,
    progressMessage: null,
    progressAt: null,
    result: null,
    pinnedHost: job.pinnedHost ?? null,
    uniqueScope: job.uniqueScope ?? 'stored',
    priority: job.priority ?? 0,
    after: job.after ?? null,
    concurrency: job.concurrency ?? null,
    sequence: job.sequence ?? null,
  };
}

/** The flow flags a new job's names carry (name-flags.ts). */
export function flowFlagsOf(content: JobContent): FlowFlags {
  return {
    priority: content.priority,
    keyed: content.concurrency !== null,
    holds: content.uniqueKey !== null && content.uniqueScope !== 'stored' ? content.uniqueScope : null,
  };
}

/** Checks a batch of jobs as insertJobs does (for insertAttempted). */
export function checkJobs(jobs: readonly NewJob[]): void {
  jobs.forEach(check);
}

/**
 * The steps of insertJobs for prepared placements: temp files, keys, the history of jobs that are
 * not duplicates (after their keys, before their names: a job never appears without it), renames,
 * directory fsyncs. `operation` names the call in errors.
 */
export async function placeJobs(
  ctx: StoreContext,
  operation: string,
  now: number,
  items: readonly Placement[],
  /**
   * Runs after the keys are taken and before any job appears, told for each job the holder of its
   * unique key that answers it (not placed), or null (placed): it may still choose the placed
   * jobs' state and name, and change their content, returning the indexes of those it changed
   * (insert-flow.ts).
   */
  beforeRename?: (holders: readonly (string | null)[]) => Promise<readonly number[]>,
): Promise<string[]> {
  const jobs = items.map((p) => p.job);
  const queues = new Set(jobs.map((j) => j.queue));
  try {
    for (const q of queues) await ctx.ensureQueue(q);
  } catch (err) {
    throw toStoreError(ctx.layout.root, operation, err, `none of the ${jobs.length} job(s) was enqueued`);
  }

  const written = await Promise.allSettled(items.map((p) => writeTemp(ctx.layout.tmp, encodeContent(p.content))));
  const temps = written.map((w) => (w.status === 'fulfilled' ? w.value : null));
  const progress: Progress = {
    temps,
    tempPaths: temps.slice(),
    placed: jobs.map(() => null),
    linked: jobs.map(() => null),
    histories: jobs.map(() => false),
  };
  const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  try {
    if (failed) throw failed.reason;
    const ids: (string | null)[] = jobs.map(() => null);
    for (let i = 0; i < jobs.length; i++) {
      const key = jobs[i].uniqueKey;
      if (key === null) continue;
      const path = keyFile(ctx, key);
      for (let tries = 0; ids[i] === null; tries++) {
        try {
          await fsOps.link(temps[i]!, path);
          progress.linked[i] = path;
          break;
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST' || tries > 5) throw err;
        }
        if (await clearStaleKey(ctx, path)) continue; // its holder let it go (a crash came between)
        ids[i] = await keyHolder(ctx, path);
      }
    }
    // The keys must be on disk before the jobs are: a job must never exist without its key file.
    if (progress.linked.some((l) => l !== null)) await ctx.syncer.sync(ctx.layout.unique);
    await Promise.all(
      items.map(async (p, i) => {
        if (ids[i] !== null || p.history === undefined) return;
        progress.histories[i] = true;
        await p.history();
      }),
    );
    if (beforeRename) {
      for (const i of await beforeRename(ids)) await rewriteFile(temps[i]!, encodeContent(items[i].content));
    }
    const dirs = new Set<string>();
    const renamed = await Promise.allSettled(
      items.map(async (p, i) => {
        if (ids[i] !== null) return;
        const to = ctx.layout.file(p.job.queue, p.state, formatName(p.name));
        await fsOps.rename(temps[i]!, to);
        temps[i] = null;
        progress.placed[i] = to;
        ids[i] = p.job.id;
        dirs.add(ctx.layout.stateDir(p.job.queue, p.state));
      }),
    );
    const refused = renamed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
    await ctx.syncer.syncAll(dirs);
    ctx.notify(new Set(items.filter((p) => p.state === 'ready').map((p) => p.job.queue)));
    return ids as string[];
  } catch (err) {
    const kept = await takeBack(ctx, jobs, progress);
    const note =
      kept.length === 0
        ? `none of the ${jobs.length} job(s) was enqueued`
        : `${kept.length} of the ${jobs.length} jobs were already in ready/ and could not be taken back (claimed by another process at once), so they stay enqueued (${kept.join(', ')}); the others were not enqueued`;
    throw toStoreError(ctx.layout.root, operation, err, note);
  } finally {
    await Promise.all(temps.map((t) => (t === null ? Promise.resolve() : unlinkQuietly(t))));
  }
}

/**
 * Undoes a failed insert: every job renamed into ready/ goes back to its temp name (removed by the
 * caller), and every key this insert linked for a job that is not kept is unlinked. Returns the ids
 * of jobs that could not be taken back (claimed meanwhile by another process).
 */
async function takeBack(ctx: StoreContext, jobs: readonly NewJob[], p: Progress): Promise<string[]> {
  const kept: string[] = [];
  const dirs = new Set<string>();
  await Promise.all(
    jobs.map(async (job, i) => {
      const at = p.placed[i];
      if (at === null || at === undefined) return;
      try {
        await fsOps.rename(at, p.tempPaths[i]!);
        p.temps[i] = p.tempPaths[i]!;
        dirs.add(ctx.layout.stateDir(job.queue, 'ready'));
      } catch {
        kept.push(job.id); // gone from ready/: claimed (or, if the rename failed, still there)
      }
    }),
  );
  // History written for a job that will not appear would be read by nothing, but removed all the
  // same: its id could be given again (the caller tries the same entry once more).
  await Promise.all(
    jobs.map(async (job, i) => {
      if (!p.histories[i] || kept.includes(job.id)) return;
      await unlinkQuietly(ctx.layout.runsFile(job.id));
      await unlinkQuietly(ctx.layout.logsFile(job.id));
    }),
  );
  let freed = false;
  for (let i = 0; i < jobs.length; i++) {
    const key = p.linked[i];
    if (!key || kept.includes(jobs[i].id)) continue;
    await fsOps.unlink(key).then(
      () => (freed = true),
      () => undefined,
    );
  }
  if (freed) dirs.add(ctx.layout.unique);
  await ctx.syncer.syncAll(dirs).catch(() => undefined);
  return kept;
}
