/**
 * Adding jobs that wait (core's flow.ts): children of other jobs, and jobs with a concurrency key.
 *
 * 1. Parents outside the batch must exist (one scan): else UnknownParentError, nothing written.
 * 2. Under the locks of the batch's keys (key-lock.ts, sorted): 'skip' jobs whose key has an
 *    unfinished job are answered with its id and not written; then the usual insert (insert.ts)
 *    runs, and between its keys and its renames each job placed gets its place: a child waits
 *    (waiting/, for parents) with its edges written (deps.ts) and, if keyed, a `p` member; a keyed
 *    job is admitted (`h` member, ready/) or waits for a slot (`w` member, waiting/), in batch
 *    order. Members and edges are durable before any job appears. A batch job not written (answered
 *    by 'skip' or by its unique key's holder) is stood for by the job that answered it: its
 *    children in the batch wait on that job, which is settled in step 3 like an outside parent.
 * 3. With the locks released, every outside parent is settled and every child decided: a parent
 *    already final decides its child here, in the insert; one that ended while we wrote is caught
 *    too (we wrote the edge before looking, its end looks after its rename).
 */
import { outsideParents, UnknownParentError, type NewJob } from '@oddjob/core';
import { addEdges, decideChild, settleParent } from './deps.js';
import { withKeyLocks } from './key-lock.js';
import {
  dropMember,
  keyHash,
  listMembers,
  putMember,
  syncKey,
  unfinishedOf,
  waitMemberName,
  type Member,
} from './keys.js';
import { formatName, type WaitingName } from './job-names.js';
import { placeJobs, type Placement } from './insert.js';
import type { StoreContext } from './store-context.js';

/** Where each outside parent is (its queue), or the ids that are not in the store. */
async function findParents(ctx: StoreContext, jobs: readonly NewJob[]): Promise<Map<string, string>> {
  const wanted = new Set(outsideParents(jobs));
  const found = new Map<string, string>();
  if (wanted.size === 0) return found;
  for (const queue of await ctx.listQueues()) {
    for (const state of ['waiting', 'ready', 'running', 'done', 'failed', 'cancelled'] as const) {
      for (const loc of await ctx.listState(queue, state))
        if (wanted.has(loc.parsed.id)) found.set(loc.parsed.id, queue);
    }
  }
  const missing = [...wanted].filter((id) => !found.has(id));
  if (missing.length > 0) throw new UnknownParentError(missing);
  return found;
}

export async function insertFlow(ctx: StoreContext, now: number, all: readonly Placement[]): Promise<string[]> {
  const parentQueues = await findParents(
    ctx,
    all.map((p) => p.job),
  );
  const hashes = new Map<number, string>();
  all.forEach((p, i) => {
    if (p.content.concurrency !== null) hashes.set(i, keyHash(p.content.concurrency.key));
  });
  const answers: (string | null)[] = all.map(() => null);
  /** Batch jobs not written, each with the stored job that answered it ('skip', or a unique key). */
  const standsFor = new Map<string, string>();
  const placedIds = await withKeyLocks(ctx, hashes.values(), async () => {
    // 'skip': a job of the key is unfinished (stored, or earlier in this batch) → its id, nothing written.
    const firstOfKey = new Map<string, string>();
    for (const [i, hash] of hashes) {
      if (all[i].content.concurrency!.alreadyRunning !== 'skip') {
        firstOfKey.set(hash, firstOfKey.get(hash) ?? all[i].job.id);
        continue;
      }
      answers[i] = firstOfKey.get(hash) ?? (await unfinishedOf(ctx, hash));
      if (answers[i] === null) firstOfKey.set(hash, all[i].job.id);
    }
    all.forEach((p, i) => {
      if (answers[i] !== null) standsFor.set(p.job.id, answers[i]);
    });
    const items = all.filter((_, i) => answers[i] === null);
    const index = all.map((_, i) => i).filter((i) => answers[i] === null);
    // Before the temp files are written: children of a skipped job wait on the job that answered it.
    for (const p of items) repoint(p, standsFor);
    const members = new Map<string, Member[]>();
    for (const h of new Set(hashes.values())) members.set(h, await listMembers(ctx, h));
    const written: [string, string][] = [];
    try {
      return await placeJobs(ctx, 'addJobs', now, items, async (holders) => {
        // Children of a job its unique key's holder answered wait on the holder (their temp files,
        // written already, are rewritten: the indexes returned).
        const byUnique = new Map<string, string>();
        holders.forEach((h, k) => {
          if (h !== null) byUnique.set(items[k].job.id, h);
        });
        byUnique.forEach((h, id) => standsFor.set(id, h));
        const changed = items.flatMap((p, k) => (holders[k] === null && repoint(p, byUnique) ? [k] : []));
        for (let k = 0; k < items.length; k++) {
          if (holders[k] !== null) continue;
          const p = items[k];
          const hash = hashes.get(index[k]);
          const c = p.content.concurrency;
          const ready = p.name as Extract<Placement['name'], { state: 'ready' }>;
          let member: string | null = null;
          if (p.content.after !== null) {
            p.state = 'waiting';
            p.name = { ...ready, state: 'waiting', waitingFor: 'parents' } satisfies WaitingName;
            await addEdges(
              ctx,
              p.job.id,
              p.job.queue,
              formatName(p.name),
              p.content.after.parents.map((d) => d.job),
            );
            if (hash !== undefined) member = `p~${p.job.id}`;
          } else if (hash !== undefined && c !== null) {
            const ms = members.get(hash)!;
            const held = ms.filter((m) => m.kind === 'h').length;
            const admitted = c.alreadyRunning === 'allow' || (held < c.limit && !ms.some((m) => m.kind === 'w'));
            member = admitted ? `h~${p.job.id}` : waitMemberName(p.job.id, ready.priority, ready.runAt, c.limit);
            ms.push(
              admitted
                ? { kind: 'h', id: p.job.id, name: member }
                : { kind: 'w', id: p.job.id, name: member, limit: c.limit },
            );
            if (!admitted) {
              p.state = 'waiting';
              p.name = { ...ready, state: 'waiting', waitingFor: 'slot' } satisfies WaitingName;
            }
          }
          if (hash !== undefined && member !== null) {
            await putMember(ctx, hash, member, p.job.queue, p.state === 'waiting' ? formatName(p.name) : null);
            written.push([hash, member]);
          }
        }
        for (const h of new Set(written.map(([h]) => h))) await syncKey(ctx, h);
        return changed;
      });
    } catch (err) {
      // Nothing of the batch stays (placeJobs took it back): neither do its members.
      for (const [h, m] of written) await dropMember(ctx, h, m).catch(() => undefined);
      throw err;
    }
  });
  const ids = all.map((p, i) => answers[i] ?? '');
  let k = 0;
  all.forEach((_, i) => {
    if (answers[i] === null) ids[i] = placedIds[k++];
  });
  // Decided at once if their parents are final (or ended while we wrote).
  for (const [parent, queue] of parentQueues) await settleParent(ctx, parent, { queue });
  const standIns = new Set(all.flatMap((p) => p.content.after?.parents.map((d) => d.job) ?? []));
  for (const holder of new Set(standsFor.values())) if (standIns.has(holder)) await settleParent(ctx, holder);
  for (let i = 0; i < all.length; i++) {
    if (answers[i] === null && ids[i] === all[i].job.id && all[i].content.after !== null)
      await decideChild(ctx, all[i].job.id, { queue: all[i].job.queue, waitingName: formatName(all[i].name) });
  }
  return ids;
}

/** Points the job's parents that were not written at the jobs that answered them; true if any. */
function repoint(p: Placement, standsFor: ReadonlyMap<string, string>): boolean {
  const after = p.content.after;
  if (after === null || !after.parents.some((d) => standsFor.has(d.job))) return false;
  p.content.after = {
    rule: after.rule,
    parents: after.parents.map((d) => ({ ...d, job: standsFor.get(d.job) ?? d.job })),
  };
  return true;
}
