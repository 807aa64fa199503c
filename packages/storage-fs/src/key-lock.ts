/**
 * One lock per concurrency key, shared by every process on the store: the file locks/<hash>,
 * created with O_EXCL (only one process can create it) and holding the creator's pid and a random
 * token. Admission reads the key's members and writes the next ones; that read-then-write must not
 * interleave with another process's, or two of them would both see a free slot.
 *
 * A killed process leaves its lock file behind: a waiter that finds the pid no longer alive (one
 * host: pids are this machine's) breaks it by renaming it aside (atomic: of two breakers one wins)
 * and checking that what it moved is the dead holder's file; if a live holder's file was moved by
 * mistake (a third process took the lock between the check and the rename) it is linked back.
 * Whatever a lock holder does is redone idempotently by the next holder (keys.ts), so a lock broken
 * after its holder died mid-step loses nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, isMissing, unlinkQuietly } from './durable.js';
import { fsOps } from './fs-ops.js';
import type { StoreContext } from './store-context.js';

/** After this long waiting for one key, a lock is reported (the holder may be stuck), and waited for still. */
const REPORT_AFTER_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acquire(ctx: StoreContext, hash: string): Promise<string> {
  const path = join(ctx.layout.locks, hash);
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const started = Date.now();
  let reported = false;
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    try {
      const fh = await fsOps.open(path, 'wx');
      try {
        await fsOps.write(fh, mine);
      } finally {
        await fh.close();
      }
      return mine;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    const held = await readFile(path, 'utf8').catch(() => null);
    const pid = held === null ? NaN : Number(held.split(' ')[0]);
    // An empty file is a holder killed between its create and its write: dead too (after a moment).
    if (held !== null && ((Number.isInteger(pid) && !alive(pid)) || (held === '' && Date.now() - started > 1000))) {
      await breakLock(path, held);
      continue;
    }
    if (!reported && Date.now() - started > REPORT_AFTER_MS) {
      reported = true;
      ctx.problems.report(
        'unreadable',
        path,
        `concurrency key lock ${path} has been held by "${held}" for ${REPORT_AFTER_MS} ms; waiting on`,
      );
    }
    await sleep(wait);
  }
}

async function breakLock(path: string, dead: string): Promise<void> {
  const aside = `${path}~broken~${randomBytes(6).toString('hex')}`;
  try {
    await fsOps.rename(path, aside);
  } catch (err) {
    if (isMissing(err)) return; // broken or released by someone else
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => null);
  if (moved !== dead) await fsOps.link(aside, path).catch(() => undefined); // a live holder's: put it back
  await unlinkQuietly(aside);
}

async function release(ctx: StoreContext, hash: string, mine: string): Promise<void> {
  const path = join(ctx.layout.locks, hash);
  // Only our own file: if ours was broken (we looked dead: we were not), another holder's stays.
  const held = await readFile(path, 'utf8').catch(() => null);
  if (held === mine) await unlinkQuietly(path);
}

/** Runs `fn` holding the locks of these keys (taken in sorted order, so two batches cannot deadlock). */
export async function withKeyLocks<T>(ctx: StoreContext, hashes: Iterable<string>, fn: () => Promise<T>): Promise<T> {
  const sorted = [...new Set(hashes)].sort();
  if (sorted.length === 0) return fn();
  const held: [string, string][] = [];
  try {
    for (const h of sorted) held.push([h, await acquire(ctx, h)]);
    return await fn();
  } finally {
    for (const [h, mine] of held.reverse()) await release(ctx, h, mine);
  }
}
