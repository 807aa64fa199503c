/**
 * Concurrency keys by admission (core's flow.ts): keys/<hash>/ holds one member file per unfinished
 * job of the key, named for what the job does there, and holding the job's queue:
 *
 *   h~<id>                                  admitted: holds a slot (new, retry, processing)
 *   w~<32767-priority>~<runAt>~<id>~<limit> waits for a slot, in claim order (the names sort so)
 *   p~<id>                                  waits for its parents (holds no slot; seen by 'skip')
 *
 * The job file (its directory) is the truth about its status; a member is the key's index of it,
 * written first: every change is made under the key's lock (key-lock.ts), member first (fsynced),
 * then the job's rename. So a crash between the two leaves a member one step ahead of its job, and
 * the next holder of the lock rolls the job forward (reconcileKey): an `h` member whose job still
 * waits is admitted, an `h` or `p` member whose job is final or gone is dropped and its slot given
 * to the next. A `w` member whose job is no longer waiting is dropped when its turn comes. Nothing a
 * claim does touches a key: only admitted jobs are in ready/, which is what makes the limit hold
 * across processes without counting anything at claim time.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, isMissing } from './durable.js';
import { fsOps } from './fs-ops.js';
import { formatName, type ReadyName, type WaitingName } from './job-names.js';
import type { Located, StoreContext } from './store-context.js';
import { isFinalState } from './flow-state.js';

export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type Member =
  { kind: 'h' | 'p'; id: string; name: string } | { kind: 'w'; id: string; name: string; limit: number };

function parseMember(name: string): Member | null {
  const f = name.split('~');
  if ((f[0] === 'h' || f[0] === 'p') && f.length === 2) return { kind: f[0], id: f[1], name };
  if (f[0] === 'w' && f.length === 5) return { kind: 'w', id: f[3], name, limit: Number(f[4]) };
  return null;
}

export function waitMemberName(id: string, priority: number, runAt: number, limit: number): string {
  return `w~${String(32767 - priority).padStart(5, '0')}~${String(Math.max(0, runAt)).padStart(15, '0')}~${id}~${limit}`;
}

/** The key's members: admitted and parent-waiting ones, then those waiting for a slot in claim order. */
export async function listMembers(ctx: StoreContext, hash: string): Promise<Member[]> {
  let names: string[];
  try {
    names = await fsOps.readdir(join(ctx.layout.keys, hash));
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  return names
    .sort()
    .map(parseMember)
    .filter((m): m is Member => m !== null);
}

export async function memberQueue(ctx: StoreContext, hash: string, m: Member): Promise<string | null> {
  return readFile(join(ctx.layout.keys, hash, m.name), 'utf8').catch(() => null);
}

/** Writes a member (idempotent); the caller fsyncs the key's directory before the job moves. */
export async function putMember(ctx: StoreContext, hash: string, name: string, queue: string): Promise<void> {
  const dir = join(ctx.layout.keys, hash);
  await mkdir(dir, { recursive: true });
  try {
    const fh = await fsOps.open(join(dir, name), 'wx');
    try {
      await fsOps.write(fh, queue);
      await fsOps.datasync(fh);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

export async function dropMember(ctx: StoreContext, hash: string, name: string): Promise<void> {
  await fsOps.unlink(join(ctx.layout.keys, hash, name)).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
}

export async function syncKey(ctx: StoreContext, hash: string): Promise<void> {
  await ctx.syncer.syncAll([ctx.layout.keys, join(ctx.layout.keys, hash)]);
}

/** Whether a job of this key, asking with `policy`, is admitted now (the caller holds the lock). */
export function admits(members: readonly Member[], limit: number, policy: string): boolean {
  if (policy === 'allow') return true;
  const held = members.filter((m) => m.kind === 'h').length;
  return held < limit && !members.some((m) => m.kind === 'w');
}

/** The ready name a waiting job gets when it is admitted. */
export function readyOf(w: WaitingName, now: number): ReadyName {
  return { ...w, state: 'ready', updatedAt: now };
}

/** Renames a waiting job (found by id in its queue's waiting/) to ready/; false if it is not waiting. */
async function releaseWaiting(ctx: StoreContext, queue: string, id: string, dirs: Set<string>): Promise<boolean> {
  const loc = (await ctx.listState(queue, 'waiting')).find((l) => l.parsed.id === id);
  if (!loc) return false;
  const to = readyOf(loc.parsed as WaitingName, ctx.nowMs());
  try {
    await fsOps.rename(ctx.layout.file(queue, 'waiting', loc.name), ctx.layout.file(queue, 'ready', formatName(to)));
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  dirs.add(ctx.layout.stateDir(queue, 'waiting'));
  dirs.add(ctx.layout.stateDir(queue, 'ready'));
  ctx.notify([queue]);
  return true;
}

/** Where a member's job is now (by the queue the member names, else by a scan), or null if gone. */
async function memberJob(ctx: StoreContext, hash: string, m: Member): Promise<Located | null> {
  const queue = await memberQueue(ctx, hash, m);
  return queue ? ctx.locateInQueue(queue, m.id) : ctx.locate(m.id);
}

/**
 * Gives free slots to waiting jobs, in claim order (the caller holds the lock). The member becomes
 * `h` first, then the job is renamed: a crash in between is rolled forward by reconcileKey.
 */
export async function admitNext(ctx: StoreContext, hash: string): Promise<void> {
  const members = await listMembers(ctx, hash);
  let held = members.filter((m) => m.kind === 'h').length;
  const dirs = new Set<string>();
  for (const w of members) {
    if (w.kind !== 'w') continue;
    if (held >= w.limit) break;
    const queue = await memberQueue(ctx, hash, w);
    const h = `h~${w.id}`;
    // One rename: the member is `w` or `h`, never both, whenever a crash comes.
    await fsOps.rename(join(ctx.layout.keys, hash, w.name), join(ctx.layout.keys, hash, h));
    await syncKey(ctx, hash);
    if (queue && (await releaseWaiting(ctx, queue, w.id, dirs))) held++;
    else {
      const loc = await memberJob(ctx, hash, { kind: 'h', id: w.id, name: h });
      if (loc && !isFinalState(loc.parsed.state) && loc.parsed.state !== 'waiting') held++;
      else await dropMember(ctx, hash, h); // cancelled while it waited: its turn passes on
    }
  }
  await ctx.syncer.syncAll(dirs);
}

/** A keyed job ended (or left its key): its member goes, and its slot (if it held one) to the next. */
export async function leaveKey(ctx: StoreContext, hash: string, id: string): Promise<void> {
  const mine = (await listMembers(ctx, hash)).filter((m) => m.id === id);
  for (const m of mine) await dropMember(ctx, hash, m.name);
  if (mine.length > 0) await syncKey(ctx, hash);
  await admitNext(ctx, hash);
  await tidyKey(ctx, hash);
}

/** Removes an empty key directory, so that keys/ lists only keys with unfinished jobs. */
async function tidyKey(ctx: StoreContext, hash: string): Promise<void> {
  await rmdir(join(ctx.layout.keys, hash)).catch(() => undefined); // ENOTEMPTY: still in use
}

/**
 * Makes the key's members agree with its jobs after a crash (the caller holds the lock): `h` whose
 * job waits is admitted; `h` or `p` whose job is final or gone is dropped; then free slots are given.
 */
export async function reconcileKey(ctx: StoreContext, hash: string): Promise<void> {
  const dirs = new Set<string>();
  for (const m of await listMembers(ctx, hash)) {
    if (m.kind === 'w') continue;
    const loc = await memberJob(ctx, hash, m);
    if (loc === null || isFinalState(loc.parsed.state)) await dropMember(ctx, hash, m.name);
    else if (m.kind === 'h' && loc.parsed.state === 'waiting') await releaseWaiting(ctx, loc.queue, m.id, dirs);
  }
  await ctx.syncer.syncAll(dirs);
  await syncKey(ctx, hash);
  await admitNext(ctx, hash);
  await tidyKey(ctx, hash);
}

/** The unfinished job of the key a 'skip' add answers (the oldest id that is really unfinished), or null. */
export async function unfinishedOf(ctx: StoreContext, hash: string): Promise<string | null> {
  const members = (await listMembers(ctx, hash)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of members) {
    const loc = await memberJob(ctx, hash, m);
    if (loc !== null && !isFinalState(loc.parsed.state)) return m.id;
    await dropMember(ctx, hash, m.name); // left over from a crash: its job ended
  }
  return null;
}
