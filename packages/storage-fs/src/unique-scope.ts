/**
 * Unique keys held for less than the job's life (core's UniqueScope): 'queued' until the first
 * claim, 'unfinished' until the job is final. The job's name says whether it still holds its key
 * (flag q or f, see name-flags.ts); the key file unique/<hash> is the index that makes the key
 * exclusive across processes. The flag is dropped by the transition that lets the key go (the claim's
 * or the final rename), and the key file is removed right after. A crash in between leaves a key
 * file for a job that no longer holds it: an add that meets it reads the holder's name, sees that,
 * and takes the key over (stale, below). So a key is never lost, and let go at most once.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { decodeContent } from './content.js';
import { isMissing, unlinkQuietly } from './durable.js';
import { fsOps } from './fs-ops.js';
import { keyFile } from './insert.js';
import type { StoreContext } from './store-context.js';

/** A key file of a job that is gone, no older than this, may belong to an add still in flight. */
const IN_FLIGHT_MS = 10 * 60_000;

/** Removes the key file if `id` is its holder. Answers whether it did (the caller fsyncs unique/). */
export async function releaseUnique(ctx: StoreContext, id: string, key: string): Promise<boolean> {
  const path = keyFile(ctx, key);
  const holder = await readFile(path, 'utf8').then(
    (t) => decodeContent(t).id,
    () => null,
  );
  if (holder !== id) return false;
  await fsOps.unlink(path).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
  return true;
}

/** Lets go the keys of jobs whose names just dropped their q/f flag; fsyncs unique/ once. */
export async function releaseUniques(
  ctx: StoreContext,
  jobs: readonly { id: string; key: string | null }[],
): Promise<void> {
  let any = false;
  for (const j of jobs) if (j.key !== null && (await releaseUnique(ctx, j.id, j.key))) any = true;
  if (any) await ctx.syncer.sync(ctx.layout.unique);
}

/**
 * Takes over a key file whose holder no longer holds it (a crash came between its flag dropping and
 * the file's removal). Answers true if the caller should try its link again.
 */
export async function clearStaleKey(ctx: StoreContext, path: string): Promise<boolean> {
  let before;
  let holder;
  try {
    before = await stat(path);
    holder = decodeContent(await readFile(path, 'utf8'));
  } catch {
    return false;
  }
  if (holder.uniqueScope === 'stored') return false;
  const loc = await ctx.locateInQueue(holder.queue, holder.id);
  const stale = loc === null ? Date.now() - before.ctimeMs > IN_FLIGHT_MS : loc.parsed.holds === null;
  if (!stale) return false;
  // Rename it aside (of two adds doing this, one wins) and check it is the file we judged.
  const aside = `${ctx.layout.tmp}/stale-key-${randomBytes(6).toString('hex')}`;
  try {
    await fsOps.rename(path, aside);
  } catch {
    return true;
  }
  const moved = await stat(aside).catch(() => null);
  if (moved !== null && moved.ino !== before.ino) await fsOps.link(aside, path).catch(() => undefined);
  await unlinkQuietly(aside);
  return true;
}
