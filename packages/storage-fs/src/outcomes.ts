import {
  InvalidOptionError,
  StorageUnavailableError,
  type JobError,
  type JobOutcome,
  type LeaseCheck,
} from '@oddjob/core';
import type { JobContent } from './content.js';
import { describeCondition, PROVIDER, toStoreError } from './errors.js';
import { moveHeld, withHeld } from './lease-ops.js';
import { flowOf, formatName, lastRunOf, type FinalName, type RunningName } from './job-names.js';
import { afterEnd, type Ended } from './flow-end.js';
import { appendLogLines } from './logs-file.js';
import { rewriteUnderLease } from './rewrite.js';
import type { Located, StoreContext } from './store-context.js';

/**
 * An outcome this process wrote whose batch was then rejected (another outcome of the batch could
 * not be written): when the same outcome comes again — the executor retries a rejected batch as it
 * is — it is answered 'ok' without being applied twice (its lease token is spent: applying it again
 * would read "lease lost"). Its directories are fsynced again before that answer, in case the fsync
 * was what failed.
 */
export interface RecordedOutcome {
  at: number;
  dirs: readonly string[];
}

/** A recorded-but-unanswered outcome is forgotten after this long (its batch was never retried). */
const REMEMBER_MS = 3_600_000;
const REMEMBER_MAX = 100_000;

function recordedKey(o: JobOutcome): string {
  return `${o.lease.jobId}\n${o.lease.token}\n${o.kind}`;
}

function checkError(error: unknown, i: number): void {
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.message !== 'string') {
    throw new InvalidOptionError('error', `outcome ${i}: must be a JobError { name, message }`);
  }
}

/**
 * What the file store checks beyond core's checkOutcomes (done by the store first: kinds, runAt):
 * the shape of the lease and of the error, which the file store reads field by field.
 */
function checkOutcomeShape(o: JobOutcome, i: number): void {
  const lease = (o as { lease?: unknown }).lease as { jobId?: unknown; token?: unknown } | null | undefined;
  if (
    lease === null ||
    typeof lease !== 'object' ||
    typeof lease.jobId !== 'string' ||
    typeof lease.token !== 'string'
  ) {
    throw new InvalidOptionError('lease', `outcome ${i}: must be { jobId, token }`);
  }
  if (o.kind === 'retry' || o.kind === 'failed') checkError(o.error, i);
}

/** One outcome, on the job file `loc` (held). Directories touched go into `dirs`. */
async function applyOne(
  ctx: StoreContext,
  o: JobOutcome,
  loc: Located<RunningName>,
  now: number,
  dirs: Set<string>,
  released: Set<string>,
  finals: Ended[],
): Promise<LeaseCheck | 'moved'> {
  const p = loc.parsed;
  const run = lastRunOf(p);
  // The final name drops a scoped unique key's flag: the key is let go once the name is durable.
  const final = (at: number, state: FinalName['state'], result: boolean): FinalName => {
    const parsed: FinalName = {
      state,
      finishedAt: at,
      id: p.id,
      attempts: p.attempts,
      runAt: p.runAt,
      ...run,
      result,
      pinned: p.pinned,
      ...flowOf(p),
      holds: null,
      decided: null,
    };
    finals.push({ queue: loc.queue, name: formatName(parsed), parsed, heldKey: p.holds !== null });
    return parsed;
  };
  const ended = (state: 'retry' | 'failed' | 'released', error: JobError | null) => (old: JobContent, at: number) => ({
    content: old,
    name: p,
    key: p.token,
    state,
    error,
    finishedAt: at,
  });
  switch (o.kind) {
    case 'done': {
      const result = o.result ?? null;
      // The hot path: without a result, done is the one rename it always was.
      if (result === null) return moveHeld(ctx, loc, final(now, 'done', false), dirs);
      return rewriteUnderLease(
        ctx,
        loc,
        (old) => ({ ...old, result }),
        (at) => final(at, 'done', true),
        dirs,
      );
    }
    case 'released': {
      // Given back unfinished: claimable at once, and the attempt it was claimed for not counted.
      const r = await rewriteUnderLease(
        ctx,
        loc,
        (old) => old,
        (at) => ({
          state: 'ready',
          runAt: at,
          id: p.id,
          status: p.attempts > 1 ? 'retry' : 'new',
          attempts: p.attempts - 1,
          updatedAt: at,
          ...run,
          pinned: p.pinned,
          ...flowOf(p),
        }),
        dirs,
        ended('released', null),
      );
      if (r === 'ok') released.add(loc.queue);
      return r;
    }
    case 'retry':
      return rewriteUnderLease(
        ctx,
        loc,
        (old) => ({ ...old, lastError: { ...o.error } }),
        (at) => ({
          state: 'ready',
          runAt: o.runAt.getTime(),
          id: p.id,
          status: 'retry',
          attempts: p.attempts,
          updatedAt: at,
          ...run,
          pinned: p.pinned,
          ...flowOf(p),
        }),
        dirs,
        ended('retry', { ...o.error }),
      );
    case 'failed':
      return rewriteUnderLease(
        ctx,
        loc,
        (old) => ({ ...old, lastError: { ...o.error } }),
        (at) => final(at, 'failed', false),
        dirs,
        ended('failed', { ...o.error }),
      );
    default:
      throw new InvalidOptionError('kind', `unknown outcome kind ${JSON.stringify((o as { kind?: unknown }).kind)}`);
  }
}

/**
 * The outcome's log lines, after the outcome was written (so only while its lease held). Logs are
 * not acknowledged writes (see logs-file.ts): a failure is reported, and does not undo the outcome.
 */
async function appendOutcomeLogs(ctx: StoreContext, o: JobOutcome, attempt: number): Promise<void> {
  if (o.logs === undefined || o.logs.length === 0) return;
  try {
    await appendLogLines(ctx, o.lease.jobId, attempt, o.logs);
  } catch (err) {
    const path = ctx.layout.logsFile(o.lease.jobId);
    ctx.problems.report(
      'unrecorded',
      path,
      `job ${o.lease.jobId}: ${o.logs.length} log line(s) given with its ${o.kind} outcome could not be appended to ${path} (${describeCondition(err)}); the outcome was recorded`,
      toStoreError(ctx.layout.root, 'appendLogs', err),
    );
  }
}

/**
 * Applies outcomes, each on its own (in parallel, each fenced by its own rename), then fsyncs the
 * touched directories once.
 *
 * Per job: one outcome's failure does not touch the others. A failed outcome undoes itself (the job
 * is back under its holder's name and lease, see rewrite.ts), so it can simply be tried again. The
 * core interface has no per-job "not written" answer, so when any outcome could not be written the
 * call rejects — with a StorageUnavailableError, i.e. "try again", which is what the executor does
 * with a rejected batch (it keeps it and retries it after a backoff) — and the outcomes that *were*
 * written are remembered, so that the retried batch answers them 'ok' instead of "lease lost": their
 * hooks run, once, when the whole batch has been written.
 */
export async function recordOutcomes(ctx: StoreContext, outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
  outcomes.forEach(checkOutcomeShape);
  const dirsOf = outcomes.map(() => new Set<string>());
  const released = new Set<string>();
  const endedOf = outcomes.map((): Ended[] => []);
  const settled = await Promise.allSettled(
    outcomes.map(async (o, i): Promise<LeaseCheck> => {
      const recorded = ctx.recordedOutcomes.get(recordedKey(o));
      if (recorded) {
        for (const d of recorded.dirs) dirsOf[i].add(d);
        return 'ok';
      }
      return withHeld(ctx, o.lease, async (loc, now) => {
        endedOf[i] = [];
        const r = await applyOne(ctx, o, loc, now, dirsOf[i], released, endedOf[i]);
        if (r !== 'ok') endedOf[i] = [];
        if (r === 'ok') await appendOutcomeLogs(ctx, o, loc.parsed.attempts);
        return r;
      });
    }),
  );
  const written = new Set<string>();
  const failures: unknown[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'rejected') {
      failures.push(s.reason);
      return;
    }
    for (const d of dirsOf[i]) written.add(d);
  });
  let syncError: unknown = null;
  await ctx.syncer.syncAll(written).catch((err: unknown) => {
    syncError = err;
  });
  ctx.notify(released);
  ctx.jobsFinished(outcomes.map((o) => o.lease.jobId));
  // Children, keys and scoped unique keys, once the final renames are durable (see flow-end.ts).
  if (syncError === null) {
    const ended = settled.flatMap((s, i) => (s.status === 'fulfilled' && s.value === 'ok' ? endedOf[i] : []));
    await afterEnd(ctx, ended, 'recordOutcomes');
  }

  if (failures.length === 0 && syncError === null) {
    for (const o of outcomes) ctx.recordedOutcomes.delete(recordedKey(o));
    return settled.map((s) => (s as PromiseFulfilledResult<LeaseCheck>).value);
  }
  const now = ctx.nowMs();
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled' && s.value === 'ok')
      ctx.recordedOutcomes.set(recordedKey(outcomes[i]), { at: now, dirs: [...dirsOf[i]] });
  });
  forgetOld(ctx, now);
  throw batchError(ctx, outcomes.length, failures, syncError);
}

function forgetOld(ctx: StoreContext, now: number): void {
  const memo = ctx.recordedOutcomes;
  for (const [k, r] of memo) {
    if (now - r.at < REMEMBER_MS && memo.size <= REMEMBER_MAX) break; // insertion order: oldest first
    memo.delete(k);
  }
}

function batchError(
  ctx: StoreContext,
  total: number,
  failures: unknown[],
  syncError: unknown,
): StorageUnavailableError {
  const dir = ctx.layout.root;
  const first = failures[0] ?? syncError;
  const cause = toStoreError(dir, 'recordOutcomes', first);
  const what =
    failures.length > 0
      ? `${failures.length} of ${total} outcomes could not be written (${describeCondition(first)}); each of them was undone and its job is still held under its lease`
      : `the directories of ${total} outcomes could not be made durable (${describeCondition(first)})`;
  return new StorageUnavailableError(
    PROVIDER,
    'recordOutcomes',
    `file store ${dir}: ${what}; the outcomes that were written are answered when the batch is tried again`,
    { cause },
  );
}
