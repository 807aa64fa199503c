/**
 * Requeuing a final job with a concurrency key: through its key's admission (core's flow.ts), so
 * the limit still holds. Under the key's lock, its member is written first (`h` admitted or `w`
 * waiting for a slot), then the job is renamed to ready/ or waiting/; a crash in between is rolled
 * forward by the key's next lock holder (keys.ts: reconcileKey).
 */
import { isMissing } from './durable.js';
import { fsOps } from './fs-ops.js';
import { formatName, requeuedName, type ReadyName, type WaitingName } from './job-names.js';
import { withKeyLocks } from './key-lock.js';
import { admits, dropMember, keyHash, listMembers, putMember, syncKey, waitMemberName } from './keys.js';
import type { StateDir } from './layout.js';
import { appendEndedRunAfter } from './runs-file.js';
import type { Located, StoreContext } from './store-context.js';

export async function requeueKeyed(
  ctx: StoreContext,
  loc: Located & { state: StateDir },
  runAt: Date | undefined,
): Promise<boolean> {
  const content = await ctx.readOrQuarantine(loc.queue, loc.state, loc.name);
  if (content === null || content.concurrency === null) return false;
  const c = content.concurrency;
  const hash = keyHash(c.key);
  const p = loc.parsed;
  const now = ctx.nowMs();
  const ready = requeuedName(p, runAt?.getTime() ?? now, now);
  const moved = await withKeyLocks(ctx, [hash], async () => {
    const members = (await listMembers(ctx, hash)).filter((m) => m.id !== p.id);
    const admitted = admits(members, c.limit, c.alreadyRunning);
    const member = admitted ? `h~${p.id}` : waitMemberName(p.id, p.priority, ready.runAt, c.limit);
    const to: ReadyName | WaitingName = admitted ? ready : { ...ready, state: 'waiting', waitingFor: 'slot' };
    await putMember(ctx, hash, member, loc.queue, admitted ? null : formatName(to));
    await syncKey(ctx, hash);
    try {
      await fsOps.rename(
        ctx.layout.file(loc.queue, loc.state, loc.name),
        ctx.layout.file(loc.queue, to.state, formatName(to)),
      );
    } catch (err) {
      await dropMember(ctx, hash, member); // not moved: the member must not stand for it
      await syncKey(ctx, hash);
      if (isMissing(err)) return null; // requeued or purged by someone else meanwhile
      throw err;
    }
    await ctx.syncer.syncAll([ctx.layout.stateDir(loc.queue, loc.state), ctx.layout.stateDir(loc.queue, to.state)]);
    return to;
  });
  if (moved === null) return false;
  if (p.state === 'done') {
    const finishedAt = p.finishedAt;
    await appendEndedRunAfter(ctx, {
      content,
      name: p,
      key: `done@${finishedAt}`,
      state: 'done',
      error: null,
      finishedAt,
    });
  }
  if (moved.state === 'ready') ctx.notify([loc.queue]);
  return true;
}
