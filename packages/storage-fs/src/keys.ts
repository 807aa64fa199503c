/**
 * Concurrency keys by admission (core's flow.ts): keys/<hash>/ holds one member file per unfinished
 * job of the key, named for what the job does there, and holding the job's queue:
 *
 *   h~<id>                                  admitted: holds a slot (new, retry, processing)
 *   w~<32767-priority>~<runAt>~<id>~<limit> waits for a slot, in claim order (the names sort so)
 *   p~<id>                                  waits for its parents (holds no slot; seen by 'skip')
 *
 * A member holds its job's queue and (for `w`) the job's waiting/ name, so that admitting it is one
 * rename, without listing waiting/. The job file (its directory) is the truth about its status; a member is the key's index of it,
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
import { formatName, parseName, type ReadyName, type WaitingName } from './job-names.js';
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

/** What a member file holds: its job's queue and, for a job in waiting/, that file's name. */
interface MemberInfo {
  queue: string;
  waitingName: string | null;
}

async function memberInfo(ctx: StoreContext, hash: string, m: Member): Promise<MemberInfo | null> {
  const text = await readFile(join(ctx.layout.keys, hash, m.name), 'utf8').catch(() => null);
  if (text === null || text === '') return null;
  const [queue, waitingName] = text.split('\n');
  return { queue, waitingName: waitingName || null };
}

/**
 * Writes a member (idempotent); the caller fsyncs the key's directory (syncKey) before the job
 * moves. `waitingName`: the job's name in waiting/, for a member that waits.
 */
export async function putMember(
  ctx: StoreContext,
  hash: string,
  name: string,
  queue: string,
  waitingName: string | null = null,
): Promise<void> {
  const dir = join(ctx.layout.keys, hash);
  // A new key directory's own entry must be durable before its members count.
  if ((await mkdir(dir, { recursive: true })) !== undefined) await ctx.syncer.sync(ctx.layout.keys);
  try {
    const fh = await fsOps.open(join(dir, name), 'wx');
    // Not fsynced: the member's name is the fact (its directory is fsynced); the content is a hint
    // that readers check and can do without (memberJob then scans).
    try {
      await fsOps.write(fh, waitingName === null ? queue : `${queue}\n${waitingName}`);
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
  await ctx.syncer.sync(join(ctx.layout.keys, hash));
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

/**
 * Renames a waiting job to ready/: by the name its member gave, else found by id in its queue's
 * waiting/. False if it is not waiting (cancelled meanwhile, or admitted already).
 */
async function releaseWaiting(
  ctx: StoreContext,
  queue: string,
  id: string,
  dirs: Set<string>,
  known: string | null = null,
): Promise<boolean> {
  for (const name of known === null ? [] : [known]) {
    const parsed = parseName('waiting', name);
    if (parsed === null || parsed.id !== id || parsed.state !== 'waiting') break;
    if (await renameToReady(ctx, queue, name, parsed, dirs)) return true;
  }
  const loc = (await ctx.listState(queue, 'waiting')).find((l) => l.parsed.id === id);
  return loc !== undefined && renameToReady(ctx, queue, loc.name, loc.parsed as WaitingName, dirs);
}

async function renameToReady(
  ctx: StoreContext,
  queue: string,
  name: string,
  parsed: WaitingName,
  dirs: Set<string>,
): Promise<boolean> {
  const to = readyOf(parsed, ctx.nowMs());
  try {
    await fsOps.rename(ctx.layout.file(queue, 'waiting', name), ctx.layout.file(queue, 'ready', formatName(to)));
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
  const info = await memberInfo(ctx, hash, m);
  return info ? ctx.locateInQueue(info.queue, m.id) : ctx.locate(m.id);
}

/**
 * Gives free slots to waiting jobs, in claim order (the caller holds the lock). Each member becomes
 * `h` first (one rename: it is `w` or `h`, never both), their directory is fsynced once, then the
 * jobs are renamed: a crash in between is rolled forward by reconcileKey. `synced`: members changed
 * before (a leaver's) that this fsync covers too.
 */
export async function admitNext(ctx: StoreContext, hash: string, pending = false): Promise<void> {
  const members = await listMembers(ctx, hash);
  let held = members.filter((m) => m.kind === 'h').length;
  const promoted: { id: string; info: MemberInfo | null; h: string }[] = [];
  for (const w of members) {
    if (w.kind !== 'w') continue;
    if (held >= w.limit) break;
    const info = await memberInfo(ctx, hash, w);
    const h = `h~${w.id}`;
    await fsOps.rename(join(ctx.layout.keys, hash, w.name), join(ctx.layout.keys, hash, h));
    promoted.push({ id: w.id, info, h });
    held++;
  }
  if (promoted.length > 0 || pending) await syncKey(ctx, hash);
  const dirs = new Set<string>();
  const gone = await Promise.all(
    promoted.map(async (p) => {
      const queue = p.info?.queue ?? (await ctx.locate(p.id))?.queue;
      if (queue && (await releaseWaiting(ctx, queue, p.id, dirs, p.info?.waitingName ?? null))) return false;
      const loc = await memberJob(ctx, hash, { kind: 'h', id: p.id, name: p.h });
      return loc === null || isFinalState(loc.parsed.state); // else admitted already (ready, running)
    }),
  );
  await ctx.syncer.syncAll(dirs);
  // Cancelled while they waited: their turn passes on.
  if (gone.some((g) => g)) {
    for (let i = 0; i < promoted.length; i++) if (gone[i]) await dropMember(ctx, hash, promoted[i].h);
    await admitNext(ctx, hash, true);
  }
}

/** Keyed jobs ended (or left their key): their members go, and their slots to the next. */
export async function leaveKey(ctx: StoreContext, hash: string, ids: readonly string[]): Promise<void> {
  const leaving = new Set(ids);
  const mine = (await listMembers(ctx, hash)).filter((m) => leaving.has(m.id));
  for (const m of mine) await dropMember(ctx, hash, m.name);
  // One fsync covers the leavers and the promotions: either order surviving a crash errs on the
  // side of fewer admitted, and reconcileKey puts it right.
  await admitNext(ctx, hash, mine.length > 0);
  await tidyKey(ctx, hash);
}

/** Removes an empty key directory, so that keys/ lists only keys with unfinished jobs. */
async function tidyKey(ctx: StoreContext, hash: string): Promise<void> {
  await rmdir(join(ctx.layout.keys, hash)).catch(() => undefined); // ENOTEMPTY: still in use
}

/**
 * Makes the key's members agree with its jobs after a crash (the caller holds the lock): `h` whose
 * job waits is admitted; `h` or `p` whose job is final or gone is dropped, and so is a `p` beside
 * the same job's `h` or `w`; then free slots are given.
 */
export async function reconcileKey(ctx: StoreContext, hash: string): Promise<void> {
  const dirs = new Set<string>();
  const members = await listMembers(ctx, hash);
  // An admission cut short between writing the job's `h`/`w` member and removing its `p` one.
  const placed = new Set(members.filter((m) => m.kind !== 'p').map((m) => m.id));
  for (const m of members) {
    if (m.kind === 'w') continue;
    if (m.kind === 'p' && placed.has(m.id)) {
      await dropMember(ctx, hash, m.name);
      continue;
    }
    const loc = await memberJob(ctx, hash, m);
    if (loc === null || isFinalState(loc.parsed.state)) await dropMember(ctx, hash, m.name);
    else if (m.kind === 'h' && loc.parsed.state === 'waiting')
      await releaseWaiting(ctx, loc.queue, m.id, dirs, loc.name);
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
