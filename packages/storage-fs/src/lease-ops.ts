import { stat } from 'node:fs/promises';
import { InvalidOptionError, type JobLease, type JobProgress, type LeaseCheck, type LogAppend } from '@oddjob/core';
import { isMissing } from './durable.js';
import { fsOps } from './fs-ops.js';
import { formatName, type ParsedName, type RunningName } from './job-names.js';
import { appendLogLines } from './logs-file.js';
import { rewriteUnderLease } from './rewrite.js';
import type { Located, StoreContext } from './store-context.js';

/** Scans the running directories for the file of this lease (when this process has not cached it). */
async function findRunning(ctx: StoreContext, lease: JobLease): Promise<Located<RunningName> | null> {
  const prefix = `${lease.jobId}~${lease.token}~`;
  for (const queue of await ctx.listQueues()) {
    for (const loc of await ctx.listState(queue, 'running')) {
      if (loc.name.startsWith(prefix)) return loc as Located<RunningName>;
    }
  }
  return null;
}

/**
 * Runs a fenced operation on the job `lease` holds, if it still holds it (processing, same token,
 * not expired). `op` answers 'moved' when its source name is gone: the cached name may be stale
 * (another store object in this process extended it), so the job is looked up once more; if it is
 * gone or changed hands, the lease is lost.
 */
export async function withHeld(
  ctx: StoreContext,
  lease: JobLease,
  op: (loc: Located<RunningName>, now: number) => Promise<LeaseCheck | 'moved'>,
): Promise<LeaseCheck> {
  if (
    lease === null ||
    typeof lease !== 'object' ||
    typeof lease.jobId !== 'string' ||
    typeof lease.token !== 'string'
  ) {
    throw new InvalidOptionError('lease', 'must be { jobId, token }');
  }
  return ctx.withJobLock(lease.jobId, async () => {
    const now = ctx.nowMs();
    const cached = ctx.runningNames.get(lease.jobId);
    let loc =
      cached && cached.parsed.state === 'running' && cached.parsed.token === lease.token
        ? (cached as Located<RunningName>)
        : null;
    for (let pass = 0; pass < 2; pass++) {
      loc ??= await findRunning(ctx, lease);
      if (!loc || loc.parsed.expiresAt <= now) return 'lease-lost';
      const result = await op(loc, now);
      if (result !== 'moved') return result;
      loc = null;
    }
    ctx.runningNames.delete(lease.jobId);
    return 'lease-lost';
  });
}

/** A fenced rename of a running job's file to a name that needs no new content. */
export async function moveHeld(
  ctx: StoreContext,
  loc: Located<RunningName>,
  to: ParsedName,
  dirs: Set<string>,
): Promise<LeaseCheck | 'moved'> {
  const name = formatName(to);
  try {
    await fsOps.rename(ctx.layout.file(loc.queue, 'running', loc.name), ctx.layout.file(loc.queue, to.state, name));
  } catch (err) {
    if (isMissing(err)) return 'moved';
    throw err;
  }
  if (to.state === 'running') ctx.runningNames.set(to.id, { queue: loc.queue, name, parsed: to });
  else ctx.runningNames.delete(to.id);
  dirs.add(ctx.layout.stateDir(loc.queue, 'running'));
  dirs.add(ctx.layout.stateDir(loc.queue, to.state));
  return 'ok';
}

/**
 * Pushes leases' expiry to now + leaseMs: a rename within running/, fenced by the token in the name.
 * Not fsynced: if the machine dies, every executor on it dies too, and an older expiry is harmless.
 * The arguments have passed core's checkExtendLeases (the store does it).
 */
export async function extendLeases(
  ctx: StoreContext,
  leases: readonly JobLease[],
  leaseMs: number,
): Promise<LeaseCheck[]> {
  const dirs = new Set<string>();
  return Promise.all(
    leases.map((lease) =>
      withHeld(ctx, lease, (loc, now) => moveHeld(ctx, loc, { ...loc.parsed, expiresAt: now + leaseMs }, dirs)),
    ),
  );
}

/** A copy of progress that core's checkProgress accepted (the caller's object may change later). */
function cloneProgress(progress: JobProgress): JobProgress {
  return typeof progress === 'number' ? progress : (JSON.parse(JSON.stringify(progress)) as JobProgress);
}

/** Stores progress and its message in the job's content: a fenced rewrite, the job staying under the same lease. */
export async function reportProgress(
  ctx: StoreContext,
  lease: JobLease,
  progress: JobProgress,
  message: string | null,
): Promise<LeaseCheck> {
  const value = cloneProgress(progress);
  const dirs = new Set<string>();
  const at = ctx.nowMs();
  const result = await withHeld(ctx, lease, (loc) =>
    rewriteUnderLease(
      ctx,
      loc,
      (old) => ({ ...old, progress: value, progressMessage: message, progressAt: at }),
      // The p flag: the content's progress is now this attempt's (a claim drops it again).
      () => ({ ...loc.parsed, progress: true }),
      dirs,
    ),
  );
  await ctx.syncer.syncAll(dirs);
  return result;
}

/**
 * Appends each entry's lines to its job's log if its lease still holds; entries are independent.
 * The lease is checked on the file itself (its name carries the token), not only on this process's
 * cache: a cancel by another process leaves the cache stale. `entries` passed core's checkLogAppends.
 */
export async function appendLogs(ctx: StoreContext, entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
  return Promise.all(
    entries.map((entry) =>
      withHeld(ctx, entry.lease, async (loc) => {
        try {
          await stat(ctx.layout.file(loc.queue, 'running', loc.name));
        } catch (err) {
          if (isMissing(err)) return 'moved';
          throw err;
        }
        await appendLogLines(ctx, loc.parsed.id, loc.parsed.attempts, entry.lines);
        return 'ok';
      }),
    ),
  );
}
