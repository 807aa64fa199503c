import { createHash } from 'node:crypto';
import { link, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, type NewJob } from '@oddjob/core';
import { decodeContent, encodeContent, type JobContent } from './content.js';
import { errnoCode, isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { formatName, ID_PATTERN } from './layout.js';
import type { StoreContext } from './store-context.js';

export function keyFile(ctx: StoreContext, uniqueKey: string): string {
  return join(ctx.layout.unique, createHash('sha256').update(uniqueKey, 'utf8').digest('hex'));
}

function check(job: NewJob, i: number): void {
  const where = `job ${i} of the batch`;
  if (job === null || typeof job !== 'object') throw new InvalidOptionError('jobs', `${where} is not a job`);
  if (typeof job.id !== 'string' || !ID_PATTERN.test(job.id)) {
    throw new InvalidOptionError('id', `${where}: "${String(job.id)}" must match ${ID_PATTERN} to be part of a file name`);
  }
  if (typeof job.queue !== 'string' || job.queue.length === 0 || job.queue.length > 100) {
    throw new InvalidOptionError('queue', `${where}: must be a string of 1 to 100 characters`);
  }
  if (job.runAt !== null && (!(job.runAt instanceof Date) || Number.isNaN(job.runAt.getTime()))) {
    throw new InvalidOptionError('runAt', `${where}: must be a valid Date or null`);
  }
}

/**
 * Who holds a unique key: the id in the content the key file links to. The key file may vanish
 * between our failed link and this read (a purge freed the key): then null, and the caller retries.
 */
async function keyHolder(path: string): Promise<string | null> {
  try {
    return decodeContent(await readFile(path, 'utf8')).id;
  } catch (err) {
    if (isMissing(err)) return null;
    throw new Error(`unique key file ${path} cannot be read (${(err as Error).message}); move it aside to free the key`, { cause: err });
  }
}

/**
 * Writes new jobs durably. Every job's content is written and fsynced in tmp/ (in parallel), keyed
 * jobs take their keys (in batch order, so that a key repeated within the batch goes to its first
 * job), the key directory is fsynced, then the jobs are renamed into ready/ and those directories are
 * fsynced. Only then does the promise resolve: an acknowledged job survives kill -9 and power loss.
 */
export async function insertJobs(ctx: StoreContext, jobs: readonly NewJob[]): Promise<string[]> {
  if (!Array.isArray(jobs)) throw new InvalidOptionError('jobs', 'must be an array');
  jobs.forEach(check);
  if (jobs.length === 0) return [];
  const now = ctx.nowMs();
  const queues = new Set(jobs.map((j) => j.queue));
  for (const q of queues) await ctx.ensureQueue(q);

  const contents: JobContent[] = jobs.map((job) => ({
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
  }));
  const written = await Promise.allSettled(contents.map((c) => writeTemp(ctx.layout.tmp, encodeContent(c))));
  const temps = written.map((w) => (w.status === 'fulfilled' ? w.value : null));
  const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  try {
    if (failed) throw failed.reason;
    const ids: (string | null)[] = jobs.map(() => null);
    let linked = false;
    for (let i = 0; i < jobs.length; i++) {
      const key = jobs[i]!.uniqueKey;
      if (key === null) continue;
      const path = keyFile(ctx, key);
      for (let tries = 0; ids[i] === null; tries++) {
        try {
          await link(temps[i]!, path);
          linked = true;
          break;
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST' || tries > 5) throw err;
        }
        ids[i] = await keyHolder(path);
      }
    }
    // The keys must be on disk before the jobs are: a job must never exist without its key file.
    if (linked) await ctx.syncer.sync(ctx.layout.unique);
    const dirs = new Set<string>();
    await Promise.all(
      jobs.map(async (job, i) => {
        if (ids[i] !== null) return;
        const runAt = contents[i]!.insertedRunAt;
        const name = formatName({ state: 'ready', runAt, id: job.id, status: 'new', attempts: 0, updatedAt: now });
        await rename(temps[i]!, ctx.layout.file(job.queue, 'ready', name));
        temps[i] = null;
        ids[i] = job.id;
        dirs.add(ctx.layout.stateDir(job.queue, 'ready'));
      }),
    );
    await ctx.syncer.syncAll(dirs);
    ctx.notify(queues);
    return ids as string[];
  } finally {
    await Promise.all(temps.map((t) => (t === null ? undefined : unlinkQuietly(t))));
  }
}
