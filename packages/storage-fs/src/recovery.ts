/**
 * The recovery pass: redoes whatever follows a job's end that a crash cut short, from durable facts
 * only (every step it takes is idempotent; see deps.ts, keys.ts, unique-scope.ts). Run when a store
 * object opens the store and by every sweep (the background one that claims start, and sweep()).
 *
 * - parents/<p>/…    a parent whose children are not all recorded: settled if it is final;
 * - outcomes/<c>/…   a child with records: decided if it still waits for its parents; the records
 *                    of a child already decided are removed (those of a child not placed yet — an
 *                    add in flight — are kept unless they are old);
 * - keys/<hash>/…    each key, under its lock: members made to agree with their jobs, free slots
 *                    given (an admission cut short is rolled forward, a finished job's slot freed).
 * A scoped unique key a crash left behind is taken over by the next add that meets it.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decideChild, dropRecords, settleParent } from './deps.js';
import { describeCondition, toStoreError } from './errors.js';
import { listOrNone } from './list-dir.js';
import type { WaitingName } from './job-names.js';
import { withKeyLocks } from './key-lock.js';
import { reconcileKey } from './keys.js';
import type { StoreContext } from './store-context.js';

/** Records of a child that is nowhere are an add in flight's, until they are this old. */
const IN_FLIGHT_MS = 10 * 60_000;

export async function recoverFlow(ctx: StoreContext): Promise<void> {
  for (const parent of await listOrNone(ctx.layout.parents)) await settleParent(ctx, parent);
  for (const child of await listOrNone(ctx.layout.outcomes)) {
    const loc = await ctx.locate(child);
    if (loc !== null && loc.state === 'waiting' && (loc.parsed as WaitingName).waitingFor === 'parents') {
      await decideChild(ctx, child, { queue: loc.queue, waitingName: loc.name });
    } else if (loc !== null) {
      await dropRecords(ctx, child);
    } else {
      const info = await stat(join(ctx.layout.outcomes, child)).catch(() => null);
      if (info !== null && Date.now() - info.mtimeMs > IN_FLIGHT_MS) await dropRecords(ctx, child);
    }
  }
  for (const hash of await listOrNone(ctx.layout.keys)) {
    await withKeyLocks(ctx, [hash], () => reconcileKey(ctx, hash));
  }
}

/** recoverFlow for a store being opened: a failure is reported, and the next sweep tries again. */
export async function recoverAtOpen(ctx: StoreContext): Promise<void> {
  try {
    await recoverFlow(ctx);
  } catch (err) {
    ctx.problems.report(
      'deferred',
      ctx.layout.root,
      `the recovery pass at open failed (${describeCondition(err)}); the next sweep runs it again`,
      toStoreError(ctx.layout.root, 'open', err),
    );
  }
}
