import { rename } from 'node:fs/promises';
import { InvalidOptionError, type JobLease, type JobOutcome, type JobProgress, type LeaseCheck } from '@oddjob/core';
import { isMissing } from './durable.js';
import { formatName, type ParsedName, type RunningName } from './layout.js';
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
async function withHeld(
  ctx: StoreContext,
  lease: JobLease,
  op: (loc: Located<RunningName>, now: number) => Promise<LeaseCheck | 'moved'>,
): Promise<LeaseCheck> {
  if (lease === null || typeof lease !== 'object' || typeof lease.jobId !== 'string' || typeof lease.token !== 'string') {
    throw new InvalidOptionError('lease', 'must be { jobId, token }');
  }
  return ctx.withJobLock(lease.jobId, async () => {
    const now = ctx.nowMs();
    const cached = ctx.runningNames.get(lease.jobId);
    let loc = cached && cached.parsed.state === 'running' && cached.parsed.token === lease.token ? (cached as Located<RunningName>) : null;
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
async function moveHeld(ctx: StoreContext, loc: Located<RunningName>, to: ParsedName, dirs: Set<string>): Promise<LeaseCheck | 'moved'> {
  const name = formatName(to);
  try {
    await rename(ctx.layout.file(loc.queue, 'running', loc.name), ctx.layout.file(loc.queue, to.state, name));
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

function checkError(error: unknown, i: number): void {
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.message !== 'string') {
    throw new InvalidOptionError('error', `outcome ${i}: must be a JobError { name, message }`);
  }
}

function checkOutcome(o: JobOutcome, i: number): void {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('outcomes', `outcome ${i} is not an object`);
  switch (o.kind) {
    case 'done':
    case 'released':
      return;
    case 'retry':
      if (!(o.runAt instanceof Date) || Number.isNaN(o.runAt.getTime())) throw new InvalidOptionError('runAt', `outcome ${i}: must be a valid Date`);
      checkError(o.error, i);
      return;
    case 'failed':
      checkError(o.error, i);
      return;
    default:
      throw new InvalidOptionError('kind', `outcome ${i}: unknown kind ${JSON.stringify((o as { kind?: unknown }).kind)}`);
  }
}

/** Applies outcomes in parallel (each fenced by its own rename) and fsyncs the touched directories once. */
export async function recordOutcomes(ctx: StoreContext, outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
  if (!Array.isArray(outcomes)) throw new InvalidOptionError('outcomes', 'must be an array');
  outcomes.forEach(checkOutcome);
  const dirs = new Set<string>();
  const released = new Set<string>();
  const results = await Promise.all(
    outcomes.map((o) =>
      withHeld(ctx, o.lease, async (loc, now): Promise<LeaseCheck | 'moved'> => {
        const p = loc.parsed;
        switch (o.kind) {
          case 'done':
            return moveHeld(ctx, loc, { state: 'done', finishedAt: now, id: p.id, attempts: p.attempts, runAt: p.runAt }, dirs);
          case 'released': {
            // Given back unfinished: claimable at once, and the attempt it was claimed for not counted.
            const r = await moveHeld(
              ctx,
              loc,
              { state: 'ready', runAt: now, id: p.id, status: p.attempts > 1 ? 'retry' : 'new', attempts: p.attempts - 1, updatedAt: now },
              dirs,
            );
            if (r === 'ok') released.add(loc.queue);
            return r;
          }
          case 'retry':
            return rewriteUnderLease(
              ctx,
              loc,
              (old) => ({ ...old, lastError: { ...o.error } }),
              (at) => ({ state: 'ready', runAt: o.runAt.getTime(), id: p.id, status: 'retry', attempts: p.attempts, updatedAt: at }),
              dirs,
            );
          case 'failed':
            return rewriteUnderLease(
              ctx,
              loc,
              (old) => ({ ...old, lastError: { ...o.error } }),
              (at) => ({ state: 'failed', finishedAt: at, id: p.id, attempts: p.attempts, runAt: p.runAt }),
              dirs,
            );
          default:
            throw new InvalidOptionError('kind', 'unknown outcome kind');
        }
      }),
    ),
  );
  await ctx.syncer.syncAll(dirs);
  ctx.notify(released);
  return results;
}

/**
 * Pushes leases' expiry to now + leaseMs: a rename within running/, fenced by the token in the name.
 * Not fsynced: if the machine dies, every executor on it dies too, and an older expiry is harmless.
 */
export async function extendLeases(ctx: StoreContext, leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
  if (!Array.isArray(leases)) throw new InvalidOptionError('leases', 'must be an array');
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new InvalidOptionError('leaseMs', `must be a finite number > 0, got ${String(leaseMs)}`);
  }
  const dirs = new Set<string>();
  return Promise.all(
    leases.map((lease) => withHeld(ctx, lease, (loc, now) => moveHeld(ctx, loc, { ...loc.parsed, expiresAt: now + leaseMs }, dirs))),
  );
}

function cloneProgress(progress: JobProgress): JobProgress {
  if (typeof progress === 'number' && Number.isFinite(progress)) return progress;
  if (progress !== null && typeof progress === 'object' && !Array.isArray(progress)) {
    return JSON.parse(JSON.stringify(progress)) as JobProgress;
  }
  throw new InvalidOptionError('progress', 'must be a finite number or a plain object');
}

/** Stores progress in the job's content: a fenced rewrite, the job staying under the same lease. */
export async function reportProgress(ctx: StoreContext, lease: JobLease, progress: JobProgress): Promise<LeaseCheck> {
  const value = cloneProgress(progress);
  const dirs = new Set<string>();
  const result = await withHeld(ctx, lease, (loc) =>
    rewriteUnderLease(
      ctx,
      loc,
      (old) => ({ ...old, progress: value }),
      (at) => ({ ...loc.parsed, updatedAt: at }),
      dirs,
    ),
  );
  await ctx.syncer.syncAll(dirs);
  return result;
}
