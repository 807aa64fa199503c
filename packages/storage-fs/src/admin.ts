import { readFile, rename, unlink } from 'node:fs/promises';
import {
  FINAL_JOB_STATUSES,
  InvalidOptionError,
  isFinalStatus,
  isJobStatus,
  type JobCount,
  type JobFilter,
  type JobRecord,
  type JobStatus,
  type PurgeFilter,
} from '@oddjob/core';
import { decodeContent, toRecord } from './content.js';
import { isMissing } from './durable.js';
import { keyFile } from './insert.js';
import { FINAL_DIRS, formatName, statusOf, type ParsedName, type StateDir } from './layout.js';
import type { Located, StoreContext } from './store-context.js';

/** How often an admin write retries after the job moved under it (a claim, an extension). */
const MOVE_RETRIES = 20;

function dirsFor(statuses: readonly JobStatus[] | undefined): StateDir[] {
  if (statuses === undefined) return ['ready', 'running', 'done', 'failed', 'cancelled'];
  const dirs = new Set<StateDir>();
  for (const s of statuses) {
    if (!isJobStatus(s)) throw new InvalidOptionError('status', `unknown status ${JSON.stringify(s)}`);
    dirs.add(s === 'new' || s === 'retry' ? 'ready' : s === 'processing' ? 'running' : s);
  }
  return [...dirs];
}

async function queuesFor(ctx: StoreContext, queue: string | undefined): Promise<string[]> {
  return queue === undefined ? ctx.listQueues() : [queue];
}

export async function getJob(ctx: StoreContext, id: string): Promise<JobRecord | null> {
  if (typeof id !== 'string') throw new InvalidOptionError('id', 'must be a string');
  for (let i = 0; i < MOVE_RETRIES; i++) {
    const loc = await ctx.locate(id);
    if (!loc) return null;
    const content = await ctx.readOrQuarantine(loc.queue, loc.state, loc.name);
    if (content) return toRecord(content, loc.parsed);
    // Moved between the listing and the read (or was corrupt and is now in corrupt/): look again.
  }
  return null;
}

export async function listJobs(ctx: StoreContext, filter: JobFilter = {}): Promise<JobRecord[]> {
  const statuses = filter.status === undefined ? undefined : ([] as JobStatus[]).concat(filter.status);
  const offset = filter.offset ?? 0;
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidOptionError('offset', 'must be an integer >= 0');
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionError('limit', 'must be an integer >= 0');
  const found: (Located & { state: StateDir })[] = [];
  for (const queue of await queuesFor(ctx, filter.queue)) {
    for (const state of dirsFor(statuses)) {
      for (const loc of await ctx.listState(queue, state)) {
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
    if (filter.target === undefined && skipped < offset) {
      skipped++;
      continue;
    }
    const content = await ctx.readOrQuarantine(loc.queue, loc.state, loc.name);
    if (!content || (filter.target !== undefined && content.target !== filter.target)) continue;
    if (skipped < offset) {
      skipped++;
      continue;
    }
    out.push(toRecord(content, loc.parsed));
  }
  return out;
}

export async function countJobs(ctx: StoreContext, filter: { queue?: string } = {}): Promise<JobCount[]> {
  const counts: JobCount[] = [];
  for (const queue of await queuesFor(ctx, filter.queue)) {
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
): Promise<Located | null> {
  if (typeof id !== 'string') throw new InvalidOptionError('id', 'must be a string');
  for (let i = 0; i < MOVE_RETRIES; i++) {
    const loc = await ctx.locate(id);
    if (!loc || !allowed(loc.parsed)) return null;
    const target = to(loc.parsed, ctx.nowMs());
    const name = formatName(target);
    try {
      await rename(ctx.layout.file(loc.queue, loc.state, loc.name), ctx.layout.file(loc.queue, target.state, name));
    } catch (err) {
      if (isMissing(err)) continue;
      throw err;
    }
    ctx.runningNames.delete(id);
    await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, loc.state), ctx.layout.stateDir(loc.queue, target.state)]);
    return { queue: loc.queue, name, parsed: target };
  }
  throw new Error(`job ${id} kept moving while it was being changed; try again`);
}

export async function cancelJob(ctx: StoreContext, id: string): Promise<boolean> {
  const moved = await moveJob(
    ctx,
    id,
    (p) => !isFinalStatus(statusOf(p)),
    (p, now) => ({ state: 'cancelled', finishedAt: now, id: p.id, attempts: p.attempts, runAt: 'runAt' in p ? p.runAt : now }),
  );
  return moved !== null;
}

export async function requeueJob(ctx: StoreContext, id: string, options: { runAt?: Date } = {}): Promise<boolean> {
  if (options.runAt !== undefined && (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime()))) {
    throw new InvalidOptionError('runAt', 'must be a valid Date');
  }
  const moved = await moveJob(
    ctx,
    id,
    (p) => isFinalStatus(statusOf(p)),
    (p, now) => ({ state: 'ready', runAt: options.runAt?.getTime() ?? now, id: p.id, status: 'new', attempts: 0, updatedAt: now }),
  );
  if (moved) ctx.notify([moved.queue]);
  return moved !== null;
}

/**
 * Deletes final jobs. The unique key goes first (if this job holds it), then the file: a crash in
 * between leaves a finished job whose key is free, never a key held by a job that no longer exists.
 */
export async function purgeJobs(ctx: StoreContext, filter: PurgeFilter): Promise<number> {
  if (filter === null || typeof filter !== 'object' || !Array.isArray(filter.statuses)) {
    throw new InvalidOptionError('statuses', 'must be an array of final statuses');
  }
  for (const s of filter.statuses) {
    if (!(FINAL_JOB_STATUSES as readonly string[]).includes(s)) {
      throw new InvalidOptionError('statuses', `only final statuses can be purged, got ${JSON.stringify(s)}`);
    }
  }
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
      let keysFreed = false;
      for (const d of doomed) {
        if (d.key === null) continue;
        const path = keyFile(ctx, d.key);
        const holder = await readFile(path, 'utf8').then(
          (t) => decodeContent(t).id,
          () => null,
        );
        if (holder !== d.id) continue;
        await unlink(path).catch((err) => {
          if (!isMissing(err)) throw err;
        });
        keysFreed = true;
      }
      if (keysFreed) await ctx.syncer.sync(ctx.layout.unique);
      for (const d of doomed) {
        try {
          await unlink(ctx.layout.file(queue, state, d.name));
          n++;
        } catch (err) {
          if (!isMissing(err)) throw err; // requeued or purged by someone else meanwhile
        }
      }
      await ctx.syncer.sync(ctx.layout.stateDir(queue, state));
    }
  }
  return n;
}
