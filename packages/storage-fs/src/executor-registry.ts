import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { EXECUTOR_PRUNE_MS, EXECUTOR_STATES, type ExecutorEntry, type ExecutorInfo } from '@oddjob/core';
import { isMissing, tempName, unlinkQuietly, writeNewFile } from './durable.js';
import { describeCondition, toStoreError, UnreadableFileError } from './errors.js';
import { fsOps } from './fs-ops.js';
import { encodeComponent } from './layout.js';
import { openJobFile } from './job-file.js';
import type { StoreContext } from './store-context.js';

/**
 * executors/<id>.json: one file per registered executor, replaced whole at every heartbeat (a temp
 * file renamed over it). Not fsynced: it is rewritten every few seconds, and after a crash of the
 * machine an entry one heartbeat old — or none, until the next — is all a reader could want.
 */
const SUFFIX = '.json';
/** Encoded ids longer than this are named by their hash instead (a name must stay under 255 bytes). */
const MAX_NAME = 200;

function fileName(id: string): string {
  const encoded = encodeComponent(id);
  // '~' never appears in an encoded id, so hashed names cannot collide with readable ones.
  return (encoded.length <= MAX_NAME ? encoded : `~${createHash('sha256').update(id, 'utf8').digest('hex')}`) + SUFFIX;
}

interface Stored {
  info: ExecutorInfo;
  heartbeatAt: number;
}

function decode(text: string): Stored {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UnreadableFileError(`not complete JSON (${(err as Error).message})`);
  }
  const ok =
    raw !== null &&
    typeof raw === 'object' &&
    typeof raw.id === 'string' &&
    typeof raw.host === 'string' &&
    Number.isSafeInteger(raw.pid) &&
    typeof raw.version === 'string' &&
    Array.isArray(raw.queues) &&
    (raw.queues as unknown[]).every(
      (q) =>
        q !== null &&
        typeof q === 'object' &&
        typeof (q as { name?: unknown }).name === 'string' &&
        Number.isSafeInteger((q as { workers?: unknown }).workers),
    ) &&
    Number.isSafeInteger(raw.startedAt) &&
    (EXECUTOR_STATES as readonly unknown[]).includes(raw.state) &&
    Number.isSafeInteger(raw.heartbeatAt);
  if (!ok) throw new UnreadableFileError('not an executor entry this store writes');
  return {
    info: {
      id: raw.id as string,
      host: raw.host as string,
      pid: raw.pid as number,
      version: raw.version as string,
      queues: (raw.queues as { name: string; workers: number }[]).map((q) => ({ name: q.name, workers: q.workers })),
      startedAt: new Date(raw.startedAt as number),
      state: raw.state as ExecutorInfo['state'],
    },
    heartbeatAt: raw.heartbeatAt as number,
  };
}

/** `info` has passed core's checkExecutorInfo. */
export async function heartbeatExecutor(ctx: StoreContext, info: ExecutorInfo): Promise<void> {
  const now = ctx.nowMs();
  await readAll(ctx, now);
  const text = JSON.stringify({
    id: info.id,
    host: info.host,
    pid: info.pid,
    version: info.version,
    queues: info.queues.map((q) => ({ name: q.name, workers: q.workers })),
    startedAt: info.startedAt.getTime(),
    state: info.state,
    heartbeatAt: now,
  });
  const tmp = tempName(ctx.layout.tmp);
  await writeNewFile(tmp, text, false);
  try {
    await fsOps.rename(tmp, join(ctx.layout.executors, fileName(info.id)));
  } catch (err) {
    await unlinkQuietly(tmp);
    throw err;
  }
}

export async function removeExecutor(ctx: StoreContext, id: string): Promise<boolean> {
  try {
    await fsOps.unlink(join(ctx.layout.executors, fileName(id)));
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** `staleAfterMs` has passed core's checks (and its default). */
export async function listExecutors(ctx: StoreContext, staleAfterMs: number): Promise<ExecutorEntry[]> {
  const now = ctx.nowMs();
  const entries = await readAll(ctx, now);
  return entries
    .sort((a, b) => (a.info.id < b.info.id ? -1 : a.info.id > b.info.id ? 1 : 0))
    .map((e) => ({ ...e.info, heartbeatAt: new Date(e.heartbeatAt), stale: now - e.heartbeatAt > staleAfterMs }));
}

/**
 * Every entry, deleting those whose heartbeat is older than EXECUTOR_PRUNE_MS. A file that cannot be
 * an entry goes to corrupt/; one that cannot be read now is reported and skipped. Neither stops the list.
 */
async function readAll(ctx: StoreContext, now: number): Promise<Stored[]> {
  const dir = ctx.layout.executors;
  const out: Stored[] = [];
  for (const name of await fsOps.readdir(dir)) {
    const path = join(dir, name);
    let entry: Stored;
    try {
      const fh = await openJobFile(path);
      try {
        entry = decode(await fh.readFile('utf8'));
      } finally {
        await fh.close().catch(() => undefined);
      }
      if (!name.endsWith(SUFFIX) || fileName(entry.info.id) !== name)
        throw new UnreadableFileError(`it holds executor "${entry.info.id}" under another name`);
    } catch (err) {
      if (isMissing(err)) continue; // removed or replaced meanwhile
      if (err instanceof UnreadableFileError) {
        await ctx.quarantineFile(path, relative(ctx.layout.root, path), err.message, 'an executor entry');
      } else {
        ctx.problems.report(
          'unreadable',
          path,
          `executor entry ${path} could not be read (${describeCondition(err)}); it is skipped`,
          toStoreError(ctx.layout.root, 'read', err),
        );
      }
      continue;
    }
    if (now - entry.heartbeatAt > EXECUTOR_PRUNE_MS) await unlinkQuietly(path);
    else out.push(entry);
  }
  return out;
}
