import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { LeaseCheck } from '@oddjob/core';
import { decodeContent, encodeContent, type JobContent } from './content.js';
import { isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { describeCondition, toStoreError, UnreadableFileError } from './errors.js';
import { fsOps } from './fs-ops.js';
import { formatName, type ParsedName, type RunningName } from './job-names.js';
import { appendEndedRun, type RunEnd } from './runs-file.js';
import { openJobFile } from './job-file.js';
import type { Located, StoreContext } from './store-context.js';

/** A fresh lease token: 16 characters of base64url, safe in a file name, unguessable. */
export function newToken(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * How long a job taken for a rewrite stays out of reclaimers' reach. The rewrite is three syscalls
 * long; this only has to outlast a process that stalls between them (a long GC pause, swapping).
 */
export const REWRITE_GRACE_MS = 10 * 60_000;

/**
 * Changes a running job's content under its lease (`change` may answer `old` itself: then only the
 * name changes), records the run it ends (`ended`, if given), then moves it to `target` (see the "take, then
 * rewrite" transition in layout.ts). `loc` is the name the caller believes the lease has: if it is
 * gone, the lease is gone, and nothing is written. Directories touched are added to `dirs` for the
 * caller to fsync (once per batch).
 *
 * Returns 'moved' when the source name no longer exists (the caller may look the job up again),
 * 'lease-lost' when the job was taken from us midway, 'ok' when the job is at `target`. Throws when
 * a step fails (a full disk fails the content write): the take is undone first, so the job is back
 * under the holder's own name and lease, as if this call had not been made, and the holder can try
 * again. (If the content was already replaced when the last rename failed, the job keeps the new
 * content under its old name: a processing job's lastError or progress being one step ahead is
 * harmless, and the retried outcome writes it again.)
 */
export async function rewriteUnderLease(
  ctx: StoreContext,
  loc: Located<RunningName>,
  change: (old: JobContent) => JobContent,
  target: (now: number) => ParsedName,
  dirs: Set<string>,
  ended?: (old: JobContent, now: number) => RunEnd,
): Promise<LeaseCheck | 'moved'> {
  const { queue } = loc;
  const now = ctx.nowMs();
  const ownPath = ctx.layout.file(queue, 'running', loc.name);
  const privateName = formatName({ ...loc.parsed, token: newToken(), expiresAt: now + REWRITE_GRACE_MS });
  const privatePath = ctx.layout.file(queue, 'running', privateName);
  // 1. The take. Atomic and exclusive: of all renames of loc.name, only one succeeds.
  try {
    await fsOps.rename(ownPath, privatePath);
  } catch (err) {
    if (isMissing(err)) return 'moved';
    throw err;
  }
  ctx.runningNames.delete(loc.parsed.id);
  dirs.add(ctx.layout.stateDir(queue, 'running'));
  try {
    return await rewriteTaken(ctx, loc, privateName, change, target(now), dirs, ended && ((old) => ended(old, now)));
  } catch (err) {
    await undoTake(ctx, loc, privatePath, ownPath);
    throw err;
  }
}

/** Steps 2 and 3, on a job this call has taken (it is at `privateName`). */
async function rewriteTaken(
  ctx: StoreContext,
  loc: Located<RunningName>,
  privateName: string,
  change: (old: JobContent) => JobContent,
  to: ParsedName,
  dirs: Set<string>,
  ended: ((old: JobContent) => RunEnd) | undefined,
): Promise<LeaseCheck> {
  const { queue } = loc;
  const privatePath = ctx.layout.file(queue, 'running', privateName);
  // 2. The rewrite, watching the old file through a descriptor: renaming the new content over the
  // private name drops one link from the old file, unless someone (an admin cancel) moved the old
  // file away first, in which case our rename made a stray second copy, which we take back.
  let fh: FileHandle;
  try {
    fh = await openJobFile(privatePath);
  } catch (err) {
    if (isMissing(err)) return 'lease-lost';
    if (err instanceof UnreadableFileError) return quarantineTaken(ctx, loc, privateName, err.message);
    throw err;
  }
  try {
    let old: JobContent;
    try {
      old = decodeContent(await fh.readFile('utf8'));
    } catch (err) {
      if (!(err instanceof UnreadableFileError)) throw err;
      await fh.close();
      return await quarantineTaken(ctx, loc, privateName, err.message);
    }
    // The run this write ends is recorded now: the job is ours alone (only a cancel can still take
    // it), and if a later step fails the take is undone and the retried write records it again
    // under the same key (the reader keeps one).
    if (ended) await appendEndedRun(ctx, ended(old));
    const changed = change(old);
    if (changed !== old) {
      const linksBefore = (await fh.stat()).nlink;
      const tmp = await writeTemp(ctx.layout.tmp, encodeContent(changed));
      try {
        await fsOps.rename(tmp, privatePath);
      } catch (err) {
        await unlinkQuietly(tmp);
        throw err;
      }
      if ((await fh.stat()).nlink !== linksBefore - 1) {
        await unlinkQuietly(privatePath);
        return 'lease-lost';
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }

  // 3. Into place. Fenced once more by the private name.
  try {
    await fsOps.rename(privatePath, ctx.layout.file(queue, to.state, formatName(to)));
  } catch (err) {
    if (isMissing(err)) return 'lease-lost';
    throw err;
  }
  dirs.add(ctx.layout.stateDir(queue, to.state));
  if (to.state === 'running') ctx.runningNames.set(to.id, { queue, name: formatName(to), parsed: to });
  return 'ok';
}

/** The taken job's content is bad: it goes to corrupt/, or (if it cannot be moved) back to its name. */
async function quarantineTaken(
  ctx: StoreContext,
  loc: Located<RunningName>,
  privateName: string,
  reason: string,
): Promise<LeaseCheck> {
  const moved = await ctx.quarantine(loc.queue, 'running', privateName, reason);
  if (moved === 'stuck') {
    await undoTake(
      ctx,
      loc,
      ctx.layout.file(loc.queue, 'running', privateName),
      ctx.layout.file(loc.queue, 'running', loc.name),
    );
  }
  return 'lease-lost';
}

/**
 * Puts a taken job back under the holder's own name (token and expiry), so that its lease is what it
 * was. If that fails too, the job stays under the private name until REWRITE_GRACE_MS passes and is
 * then reclaimed (its attempt counted); that is reported, since the job is out of reach until then.
 */
async function undoTake(
  ctx: StoreContext,
  loc: Located<RunningName>,
  privatePath: string,
  ownPath: string,
): Promise<void> {
  try {
    await fsOps.rename(privatePath, ownPath);
    ctx.runningNames.set(loc.parsed.id, loc);
  } catch (err) {
    if (isMissing(err)) return; // cancelled meanwhile (or quarantined): there is nothing to put back
    ctx.problems.report(
      'stranded',
      privatePath,
      `job ${loc.parsed.id} could not be put back under its lease after a failed write (${describeCondition(err)}); it is claimable again after ${new Date(ctx.nowMs() + REWRITE_GRACE_MS).toISOString()}`,
      toStoreError(ctx.layout.root, 'rewrite', err),
    );
  }
}
