/**
 * Dependencies (core's flow.ts) as files, every step idempotent, so that whoever touches the store
 * next can redo a step a crash cut short:
 *
 *   parents/<parent>/<child>         the edge: the child waits for this parent's end to be recorded
 *   outcomes/<child>/<parent>~<st>   the parent's final status, recorded for the child
 *
 * The durable fact that starts everything is the parent's own final rename (done/, failed/,
 * cancelled/). Settling a final parent records its status for each child (the record fsynced
 * before the edge goes), then decides each child whose parents are all recorded: a child's decision
 * is one rename out of waiting/ (to ready/, to waiting/ for a slot, or to cancelled/ with the
 * decision in its name), and of several processes deciding one child only one rename succeeds. A
 * parent is settled by the call that made it final, before a purge or requeue takes it out of its
 * final state, and by the recovery pass (store open, background sweep) for any edge left behind.
 */
import { mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ParentOutcome } from '@oddjob/core';
import { errnoCode, isMissing } from './durable.js';
import { decidedOf } from './flow-content.js';
import { jobsEnded } from './flow-end.js';
import { isFinalState } from './flow-state.js';
import { fsOps } from './fs-ops.js';
import { listOrNone } from './list-dir.js';
import { endedName, formatName, parseName, type FinalName, type ParsedName, type WaitingName } from './job-names.js';
import { withKeyLocks } from './key-lock.js';
import { admits, keyHash, listMembers, putMember, readyOf, syncKey, waitMemberName } from './keys.js';
import type { Located, StoreContext } from './store-context.js';

/**
 * Creates an index file (idempotent). Its existence is the fact, made durable by the caller's fsync
 * of its directory; its content is only a hint (a queue, a file name) that every reader checks and
 * can do without, so it is not fsynced itself.
 */
async function createFile(path: string, text: string): Promise<void> {
  try {
    const fh = await fsOps.open(path, 'wx');
    try {
      await fsOps.write(fh, text);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

/** Writes the child's edges (before the child appears, so that a parent's end always finds them). */
export async function addEdges(
  ctx: StoreContext,
  child: string,
  queue: string,
  waitingName: string,
  parents: readonly string[],
): Promise<void> {
  const dirs = new Set<string>();
  for (const p of parents) {
    const dir = join(ctx.layout.parents, p);
    for (let tries = 0; ; tries++) {
      if ((await mkdir(dir, { recursive: true })) !== undefined) dirs.add(ctx.layout.parents);
      try {
        await createFile(join(dir, child), `${queue}\n${waitingName}`);
        break;
      } catch (err) {
        // A settle removed the (empty) directory between our mkdir and our create: make it again.
        if (!isMissing(err) || tries > 5) throw err;
      }
    }
    dirs.add(dir);
  }
  await ctx.syncer.syncAll(dirs);
}

/** The ids of parents that have edges waiting to be settled. */
export async function pendingParents(ctx: StoreContext): Promise<Set<string>> {
  return new Set(await listOrNone(ctx.layout.parents));
}

/** Where a job is: its queue, and (if known) its file name in waiting/ — a hint, checked before use. */
export interface ChildHint {
  queue: string;
  waitingName?: string | null;
}

/**
 * Records a final parent's status for each of its waiting children and decides those whose parents
 * have all ended. `known`: the status it ended with (from the call that ended it), or its queue (to
 * look it up there, saving a scan). Does nothing if the parent is not final.
 */
export async function settleParent(
  ctx: StoreContext,
  parent: string,
  known?: { status: ParentOutcome } | { queue: string },
): Promise<void> {
  let status: ParentOutcome;
  if (known !== undefined && 'status' in known) status = known.status;
  else {
    const loc = known === undefined ? await ctx.locate(parent) : await ctx.locateInQueue(known.queue, parent);
    if (loc === null || !isFinalState(loc.state)) return;
    status = loc.state as ParentOutcome;
  }
  const dir = join(ctx.layout.parents, parent);
  const children: { id: string; hint: ChildHint | undefined }[] = [];
  for (const child of await listOrNone(dir)) {
    const text = await readFile(join(dir, child), 'utf8').catch(() => null);
    const [queue, waitingName] = (text ?? '').split('\n');
    children.push({ id: child, hint: queue ? { queue, waitingName: waitingName || null } : undefined });
  }
  if (children.length === 0) {
    await rmdir(dir).catch(() => undefined);
    return;
  }
  const dirs = new Set<string>();
  await Promise.all(
    children.map(async (c) => {
      const cdir = join(ctx.layout.outcomes, c.id);
      if ((await mkdir(cdir, { recursive: true })) !== undefined) dirs.add(ctx.layout.outcomes);
      await createFile(join(cdir, `${parent}~${status}`), '');
      dirs.add(cdir);
    }),
  );
  // The records are durable before their edges go: a crash leaves an edge (settled again), never
  // neither. The edges' removal needs no fsync: an edge that comes back is settled again, idempotently.
  await ctx.syncer.syncAll(dirs);
  await Promise.all(
    children.map((c) =>
      fsOps.unlink(join(dir, c.id)).catch((err: unknown) => {
        if (!isMissing(err)) throw err;
      }),
    ),
  );
  await rmdir(dir).catch(() => undefined); // ENOTEMPTY: a child added meanwhile settles it itself
  await Promise.all(children.map((c) => decideChild(ctx, c.id, c.hint)));
}

/** The parents' statuses recorded for a child. */
async function recorded(ctx: StoreContext, child: string): Promise<Map<string, ParentOutcome>> {
  const out = new Map<string, ParentOutcome>();
  for (const name of (await listOrNone(join(ctx.layout.outcomes, child))).sort()) {
    const [p, s] = name.split('~');
    if (!out.has(p) && (s === 'done' || s === 'failed' || s === 'cancelled')) out.set(p, s);
  }
  return out;
}

/** Removes a decided child's records (a crash before leaves them to the recovery pass). */
export async function dropRecords(ctx: StoreContext, child: string): Promise<void> {
  const dir = join(ctx.layout.outcomes, child);
  for (const name of await listOrNone(dir)) await fsOps.unlink(join(dir, name)).catch(() => undefined);
  await rmdir(dir).catch(() => undefined);
}

/**
 * Decides a child waiting for its parents once every parent's status is recorded: released
 * (through its key's admission if it has one) or cancelled with the decision in its name. Does
 * nothing if the child is not waiting for parents (decided already, cancelled, not placed yet) or
 * a parent is still open.
 */
export async function decideChild(ctx: StoreContext, child: string, hint?: ChildHint): Promise<void> {
  const loc = await findWaiting(ctx, child, hint);
  if (loc === null) return;
  const content = await ctx.readOrQuarantine(loc.queue, 'waiting', loc.name);
  if (content === null || content.after === null) return;
  const records = await recorded(ctx, child);
  const outcomes = content.after.parents.map((p) => records.get(p.job));
  if (outcomes.some((o) => o === undefined)) return;
  const decided = decidedOf(content.after, outcomes as ParentOutcome[]);
  const now = ctx.nowMs();
  const from = ctx.layout.file(loc.queue, 'waiting', loc.name);
  if (decided === null) {
    if (content.concurrency !== null) {
      const c = content.concurrency;
      const hash = keyHash(c.key);
      await withKeyLocks(ctx, [hash], () => admitWaiting(ctx, loc, hash, c.limit, c.alreadyRunning, now));
    } else {
      const to = readyOf(loc.parsed, now);
      if (!(await rename(from, ctx.layout.file(loc.queue, 'ready', formatName(to))))) return;
      await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, 'waiting'), ctx.layout.stateDir(loc.queue, 'ready')]);
      ctx.notify([loc.queue]);
    }
  } else {
    const to: FinalName = { ...endedName(loc.parsed, 'cancelled', now), decided };
    const name = formatName(to);
    if (!(await rename(from, ctx.layout.file(loc.queue, 'cancelled', name)))) return;
    await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, 'waiting'), ctx.layout.stateDir(loc.queue, 'cancelled')]);
    ctx.jobsFinished([child]);
    await jobsEnded(ctx, [{ queue: loc.queue, name, parsed: to, heldKey: loc.parsed.holds !== null }]);
  }
  await dropRecords(ctx, child);
}

/** The child's file if it waits for its parents: by the hint's name (one stat), else by a listing. */
async function findWaiting(ctx: StoreContext, child: string, hint?: ChildHint): Promise<Located<WaitingName> | null> {
  const isChild = (p: ParsedName | null): p is WaitingName =>
    p !== null && p.state === 'waiting' && p.id === child && p.waitingFor === 'parents';
  if (hint?.waitingName) {
    const parsed = parseName('waiting', hint.waitingName);
    const there = await stat(ctx.layout.file(hint.queue, 'waiting', hint.waitingName)).then(
      () => true,
      () => false,
    );
    if (isChild(parsed) && there) return { queue: hint.queue, name: hint.waitingName, parsed };
  }
  const found =
    hint === undefined
      ? await ctx.locate(child)
      : ((await ctx.listState(hint.queue, 'waiting')).find((l) => l.parsed.id === child) ?? null);
  return found !== null && isChild(found.parsed)
    ? { queue: found.queue, name: found.name, parsed: found.parsed }
    : null;
}

async function rename(from: string, to: string): Promise<boolean> {
  try {
    await fsOps.rename(from, to);
    return true;
  } catch (err) {
    if (isMissing(err)) return false; // decided or cancelled by someone else meanwhile
    throw err;
  }
}

/**
 * A released child with a concurrency key (the caller holds the key's lock): its `p` member
 * becomes `h` (admitted) or `w` (waits for a slot), then the job moves to match.
 */
async function admitWaiting(
  ctx: StoreContext,
  loc: Located<WaitingName>,
  hash: string,
  limit: number,
  policy: string,
  now: number,
): Promise<void> {
  const members = await listMembers(ctx, hash);
  const id = loc.parsed.id;
  const mine = members.find((m) => m.id === id && m.kind !== 'p');
  const others = members.filter((m) => m.id !== id);
  const admitted = mine ? mine.kind === 'h' : admits(others, limit, policy);
  const slotName = formatName({ ...loc.parsed, waitingFor: 'slot' });
  if (!mine) {
    await putMember(
      ctx,
      hash,
      admitted ? `h~${id}` : waitMemberName(id, loc.parsed.priority, loc.parsed.runAt, limit),
      loc.queue,
      admitted ? null : slotName,
    );
  }
  // Also when `mine` exists: a crash may have come between writing it and removing the `p`.
  const stale = members.filter((m) => m.id === id && m.kind === 'p');
  for (const m of stale) await fsOps.unlink(join(ctx.layout.keys, hash, m.name)).catch(() => undefined);
  if (!mine || stale.length > 0) await syncKey(ctx, hash);
  const from = ctx.layout.file(loc.queue, 'waiting', loc.name);
  const to = admitted
    ? ctx.layout.file(loc.queue, 'ready', formatName(readyOf(loc.parsed, now)))
    : ctx.layout.file(loc.queue, 'waiting', slotName);
  if (!(await rename(from, to))) return;
  await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, 'waiting'), ctx.layout.stateDir(loc.queue, 'ready')]);
  if (admitted) ctx.notify([loc.queue]);
}
