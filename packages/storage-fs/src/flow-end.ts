/**
 * What follows a job's final rename (done, failed, cancelled — by an outcome, a cancel, a claim
 * failing a spent lease, or its parents): its unique key let go if its scope ended, its key's slot
 * given to the next job, its waiting children's records and decisions. Called by whoever made the
 * job final, once that rename is durable; every step is idempotent and redone by the recovery pass
 * (recovery.ts) if a crash cuts it short, so none is lost and none is done twice.
 *
 * Plain jobs pay one listing of parents/ per call (the ids of parents with waiting children), and
 * nothing else: whether a job has a concurrency key or a scoped unique key is in its name.
 */
import { settleParent, pendingParents } from './deps.js';
import type { FinalName } from './job-names.js';
import { withKeyLocks } from './key-lock.js';
import { keyHash, leaveKey } from './keys.js';
import { describeCondition, toStoreError } from './errors.js';
import type { StoreContext } from './store-context.js';
import { releaseUniques } from './unique-scope.js';

export interface Ended {
  queue: string;
  /** The job's final file name, and what it says. */
  name: string;
  parsed: FinalName;
  /** The name before the final one held a scoped unique key (flag q or f): let it go now. */
  heldKey: boolean;
}

export async function jobsEnded(ctx: StoreContext, ended: readonly Ended[]): Promise<void> {
  if (ended.length === 0) return;
  const unique: { id: string; key: string | null }[] = [];
  const byKey = new Map<string, string[]>();
  await Promise.all(
    ended.map(async (e) => {
      if (!e.parsed.keyed && !e.heldKey) return;
      const content = await ctx.readOrQuarantine(e.queue, e.parsed.state, e.name);
      if (content === null) return; // moved on already (requeued, purged): the recovery pass has the rest
      if (e.heldKey) unique.push({ id: e.parsed.id, key: content.uniqueKey });
      if (e.parsed.keyed && content.concurrency !== null) {
        const hash = keyHash(content.concurrency.key);
        byKey.set(hash, [...(byKey.get(hash) ?? []), e.parsed.id]);
      }
    }),
  );
  // One lock and one pass per key; different keys at once (each its own lock).
  await Promise.all([...byKey].map(([hash, ids]) => withKeyLocks(ctx, [hash], () => leaveKey(ctx, hash, ids))));
  await releaseUniques(ctx, unique);
  const pending = await pendingParents(ctx);
  if (pending.size === 0) return;
  // Parents at once: their fsyncs (outcomes/, waiting/, ready/) are shared by the group commit.
  await Promise.all(
    ended
      .filter((e) => pending.has(e.parsed.id))
      .map((e) => settleParent(ctx, e.parsed.id, { status: e.parsed.state })),
  );
}

/**
 * jobsEnded for callers whose own write is already made and acknowledged as such: a failure is
 * reported (kind 'deferred') instead of failing a call whose change stands; recovery redoes it.
 */
export async function afterEnd(ctx: StoreContext, ended: readonly Ended[], operation: string): Promise<void> {
  try {
    await jobsEnded(ctx, ended);
  } catch (err) {
    ctx.problems.report(
      'deferred',
      ctx.layout.root,
      `what follows the end of job(s) ${ended.map((e) => e.parsed.id).join(', ')} (children, key admission) failed (${describeCondition(err)}); the recovery pass redoes it`,
      toStoreError(ctx.layout.root, operation, err),
    );
  }
}
