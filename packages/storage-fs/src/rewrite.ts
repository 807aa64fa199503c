import { randomBytes } from 'node:crypto';
import { open, rename, type FileHandle } from 'node:fs/promises';
import type { LeaseCheck } from '@oddjob/core';
import { decodeContent, encodeContent, UnreadableFileError, type JobContent } from './content.js';
import { isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { formatName, type ParsedName, type RunningName } from './layout.js';
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
 * Changes a running job's content under its lease, then moves it to `target` (see the "take, then
 * rewrite" transition in layout.ts). `loc` is the name the caller believes the lease has: if it is
 * gone, the lease is gone, and nothing is written. Directories touched are added to `dirs` for the
 * caller to fsync (once per batch).
 *
 * Returns 'moved' when the source name no longer exists (the caller may look the job up again),
 * 'lease-lost' when the job was taken from us midway, 'ok' when the job is at `target`.
 */
export async function rewriteUnderLease(
  ctx: StoreContext,
  loc: Located<RunningName>,
  change: (old: JobContent) => JobContent,
  target: (now: number) => ParsedName,
  dirs: Set<string>,
): Promise<LeaseCheck | 'moved'> {
  const { queue } = loc;
  const now = ctx.nowMs();
  const privateName = formatName({ ...loc.parsed, token: newToken(), expiresAt: now + REWRITE_GRACE_MS });
  const privatePath = ctx.layout.file(queue, 'running', privateName);
  // 1. The take. Atomic and exclusive: of all renames of loc.name, only one succeeds.
  try {
    await rename(ctx.layout.file(queue, 'running', loc.name), privatePath);
  } catch (err) {
    if (isMissing(err)) return 'moved';
    throw err;
  }
  ctx.runningNames.delete(loc.parsed.id);
  dirs.add(ctx.layout.stateDir(queue, 'running'));

  // 2. The rewrite, watching the old file through a descriptor: renaming the new content over the
  // private name drops one link from the old file, unless someone (an admin cancel) moved the old
  // file away first, in which case our rename made a stray second copy, which we take back.
  let fh: FileHandle;
  try {
    fh = await open(privatePath, 'r');
  } catch (err) {
    if (isMissing(err)) return 'lease-lost';
    throw err;
  }
  try {
    let old: JobContent;
    try {
      old = decodeContent(await fh.readFile('utf8'));
    } catch (err) {
      if (!(err instanceof UnreadableFileError)) throw err;
      await fh.close();
      await ctx.quarantine(queue, 'running', privateName, err.message);
      return 'lease-lost';
    }
    const linksBefore = (await fh.stat()).nlink;
    const tmp = await writeTemp(ctx.layout.tmp, encodeContent(change(old)));
    try {
      await rename(tmp, privatePath);
    } catch (err) {
      await unlinkQuietly(tmp);
      throw err;
    }
    if ((await fh.stat()).nlink !== linksBefore - 1) {
      await unlinkQuietly(privatePath);
      return 'lease-lost';
    }
  } finally {
    await fh.close().catch(() => undefined);
  }

  // 3. Into place. Fenced once more by the private name.
  const to = target(now);
  try {
    await rename(privatePath, ctx.layout.file(queue, to.state, formatName(to)));
  } catch (err) {
    if (isMissing(err)) return 'lease-lost';
    throw err;
  }
  dirs.add(ctx.layout.stateDir(queue, to.state));
  if (to.state === 'running') ctx.runningNames.set(to.id, { queue, name: formatName(to), parsed: to });
  return 'ok';
}
