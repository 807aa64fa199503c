import { dirname } from 'node:path';
import {
  byClaimOrder,
  InvalidOptionError,
  leaseExpiredError,
  leaseTakeoverError,
  type CheckedClaimRequest,
  type ClaimedJob,
} from '@oddjob/core';
import { toRecord, type JobContent } from './content.js';
import { isMissing } from './durable.js';
import { describeCondition, toStoreError } from './errors.js';
import { fsOps } from './fs-ops.js';
import { encodeComponent } from './layout.js';
import { endedName, flowOf, formatName, type ReadyName, type RunningName } from './job-names.js';
import { afterEnd, type Ended } from './flow-end.js';
import { releaseUniques } from './unique-scope.js';
import { newToken, rewriteUnderLease } from './rewrite.js';
import { appendEndedRunAfter } from './runs-file.js';
import type { Located, StoreContext } from './store-context.js';

/** Owners go into file names; this keeps a running job's name well under the 255-byte limit. */
const MAX_ENCODED_OWNER = 100;

interface Candidate {
  loc: Located<ReadyName | RunningName>;
  from: 'ready' | 'running';
  /** An expired lease's content (read to see whether an attempt is left): its run is recorded as lost. */
  content: JobContent | null;
  runAt: number;
  id: string;
  attempts: number;
  priority: number;
}

/**
 * The one check of its own the file store adds to core's checkClaimRequest (done by the caller):
 * the owner goes into a file name, which must stay under the 255-byte limit.
 */
export function checkOwnerFits(owner: string): void {
  if (encodeComponent(owner).length > MAX_ENCODED_OWNER) {
    throw new InvalidOptionError(
      'owner',
      `"${owner}" is too long for the file store (at most ${MAX_ENCODED_OWNER} characters once %-encoded)`,
    );
  }
}

/** A job this claim renamed into running/, and the name it had before (to give it back). */
interface Taken {
  loc: Located<RunningName>;
  source: string;
  candidate: Candidate;
}

/** After this many renames failing other than by losing a race, the claim stops trying more. */
const MAX_RENAME_FAILURES = 3;

/**
 * Claims up to `limit` jobs. The listing is only a snapshot; the claim of each job is a rename,
 * which fails for every process but one, so losers simply move on to the next candidate.
 *
 * Before claiming, jobs of every queue whose lease expired with no attempt left are failed (as the
 * memory store does): a job that kills its process on every run must not loop forever.
 *
 * One bad entry never stops a claim: each queue is scanned on its own (a queue whose directories
 * cannot be listed is skipped and reported), an entry that cannot be a job is quarantined, one that
 * cannot be read just now is given back, and if the claim fails part-way (its fsync) everything it
 * took is given back before it throws, so nothing is left in running/ under a lease nobody holds.
 *
 * `request` has passed core's checkClaimRequest (the store does it), its queues de-duplicated.
 */
export async function claimJobs(ctx: StoreContext, request: CheckedClaimRequest): Promise<ClaimedJob[]> {
  checkOwnerFits(request.owner);
  // Written once per host and process; after that a claim only puts the tag in the job's name.
  const hostTag = request.host === undefined ? '' : await ctx.hosts.tagFor(request.host);
  const now = ctx.nowMs();
  const wanted = new Set(request.queues);
  const candidates: Candidate[] = [];
  const dirs = new Set<string>();
  const ended: Ended[] = [];
  const queues = await ctx.listQueues();

  for (const queue of queues) {
    for (const loc of (await ctx.listState(queue, 'running')) as Located<RunningName>[]) {
      const p = loc.parsed;
      if (p.expiresAt > now) continue;
      // Whether an attempt is left depends on the retry policy, which is in the content; expired
      // leases are rare, so reading these few files is cheap.
      const content = await ctx.readOrQuarantine(queue, 'running', loc.name);
      if (!content) continue;
      if (p.attempts >= content.retry.maxAttempts) {
        await failExhausted(ctx, loc, dirs, ended);
      } else if (wanted.has(queue)) {
        candidates.push({
          loc,
          from: 'running',
          content,
          runAt: p.runAt,
          id: p.id,
          attempts: p.attempts,
          priority: p.priority,
        });
      }
    }
  }
  if (ended.length > 0) {
    // A spent job's end may admit the next of its key, or release its children: before the ready/
    // listing below, so that this claim can take them.
    await ctx.syncer.syncAll(dirs);
    await afterEnd(ctx, ended, 'claim');
  }
  for (const queue of queues) {
    if (!wanted.has(queue)) continue;
    for (const loc of (await ctx.listState(queue, 'ready')) as Located<ReadyName>[]) {
      if (loc.parsed.runAt <= now)
        candidates.push({
          loc,
          from: 'ready',
          content: null,
          runAt: loc.parsed.runAt,
          id: loc.parsed.id,
          attempts: loc.parsed.attempts,
          priority: loc.parsed.priority,
        });
    }
  }
  candidates.sort(byClaimOrder);

  const taken: Taken[] = [];
  const failures: unknown[] = [];
  const overdueBy = now - request.takeoverAfterMs - 1;
  // The renames go out in rounds, each round as many at once as jobs are still wanted: they are
  // independent (each fenced by its own source name), and one at a time they cost a round trip to
  // the thread pool each. Losers of a race (ENOENT) are replaced by the next candidates next round.
  let next = 0;
  while (taken.length < request.limit && failures.length < MAX_RENAME_FAILURES && next < candidates.length) {
    const round: Candidate[] = [];
    while (round.length < request.limit - taken.length && next < candidates.length) {
      const c = candidates[next++];
      if (c.loc.parsed.pinned && c.runAt > overdueBy && !(await pinnedHere(ctx, c, request.host))) continue;
      round.push(c);
    }
    const results = await Promise.all(round.map((c) => takeOne(ctx, c, request, now, hostTag)));
    for (const r of results) {
      if (r === 'lost') continue; // another claimer (or a cancel) got there first
      if ('error' in r) {
        failures.push(r.error); // this entry, or the disk: the next round tries others, up to a few failures
        continue;
      }
      dirs.add(ctx.layout.stateDir(r.loc.queue, r.candidate.from));
      dirs.add(ctx.layout.stateDir(r.loc.queue, 'running'));
      taken.push(r);
    }
  }
  // The contents are read while the directories are fsynced: a read needs no durability, and
  // waiting for the fsync first would add the reads' round trips to every claim's latency.
  const reads = Promise.all(taken.map((t) => ctx.readEntry(t.loc.queue, 'running', t.loc.name)));
  // The attempt is counted at claim, so the claim must survive a crash of the machine as well.
  try {
    await ctx.syncer.syncAll(dirs);
  } catch (err) {
    await reads;
    await giveBack(ctx, taken);
    throw err;
  }
  // The attempts whose leases were taken over end as lost: recorded once the takeover is durable.
  await Promise.all(
    taken.map(async ({ candidate: c }) => {
      if (c.from !== 'running' || c.content === null) return;
      const old = c.loc.parsed as RunningName;
      await appendEndedRunAfter(ctx, {
        content: c.content,
        name: old,
        key: old.token,
        state: 'lease-lost',
        error: leaseTakeoverError(old.owner),
        finishedAt: now,
      });
    }),
  );

  const read = await reads;
  const jobs = await Promise.all(
    taken.map(async (t, i): Promise<ClaimedJob | null> => {
      const r = read[i];
      switch (r.kind) {
        case 'ok':
          ctx.runningNames.set(t.loc.parsed.id, t.loc);
          return toRecord(r.content, t.loc.parsed, request.host ?? null) as ClaimedJob;
        case 'gone': // cancelled since
        case 'quarantined':
          return null;
        case 'unreadable':
          // Not readable now (and reported): put back as it was, to be tried again later.
          await giveBack(ctx, [t]);
          return null;
        default:
          return unreachable(r);
      }
    }),
  );
  const out = jobs.filter((j): j is ClaimedJob => j !== null);
  // 'queued' unique keys end at the first claim: the running name no longer carries flag q.
  const queued = taken.flatMap((t, i) => {
    const r = read[i];
    return t.candidate.loc.parsed.holds === 'queued' && r.kind === 'ok'
      ? [{ id: t.loc.parsed.id, key: r.content.uniqueKey }]
      : [];
  });
  if (queued.length > 0) await releaseUniques(ctx, queued);
  if (failures.length > 0) {
    // Nothing could be claimed because of them: say so (the caller backs off). Otherwise they are
    // reported and the jobs that could be claimed go out.
    if (taken.length === 0) throw failures[0];
    ctx.problems.report(
      'unreadable',
      ctx.layout.queues,
      `a claim could not move ${failures.length} job file(s) into running/ (${describeCondition(failures[0])}); they stay where they were`,
      toStoreError(ctx.layout.root, 'claim', failures[0]),
    );
  }
  return out;
}

/** Renames one candidate into running/ under a fresh lease: the claim of that job, or why not. */
async function takeOne(
  ctx: StoreContext,
  c: Candidate,
  request: CheckedClaimRequest,
  now: number,
  hostTag: string,
): Promise<Taken | 'lost' | { error: unknown }> {
  const parsed: RunningName = {
    state: 'running',
    id: c.id,
    token: newToken(),
    expiresAt: now + request.leaseMs,
    attempts: c.attempts + 1,
    runAt: c.runAt,
    since: now,
    owner: request.owner,
    hostTag,
    started: true,
    progress: false,
    pinned: c.loc.parsed.pinned,
    ...flowOf(c.loc.parsed),
    holds: c.loc.parsed.holds === 'queued' ? null : c.loc.parsed.holds,
  };
  const name = formatName(parsed);
  const source = ctx.layout.file(c.loc.queue, c.from, c.loc.name);
  try {
    await fsOps.rename(source, ctx.layout.file(c.loc.queue, 'running', name));
  } catch (err) {
    return isMissing(err) ? 'lost' : { error: err };
  }
  if (c.from === 'ready') noteClaimedFromReady(ctx, c.loc.queue, c.loc.name);
  return { loc: { queue: c.loc.queue, name, parsed }, source, candidate: c };
}

/** Events of a watch that stopped reporting are never consumed: past this many, the names are let go. */
const MAX_CLAIMED_NOTES = 10_000;

/** Tells this store object's watcher (if one runs) that this name left ready/ by a claim, not an arrival. */
function noteClaimedFromReady(ctx: StoreContext, queue: string, name: string): void {
  const notes = ctx.claimedFromReady;
  if (notes === null) return;
  if (notes.size >= MAX_CLAIMED_NOTES) notes.clear(); // a lost note only costs the watcher one lookup
  notes.add(`${queue}/${name}`);
}

/**
 * Whether a pinned candidate that is not overdue may be taken by this claim: its content (read for
 * an expired lease already, else read now) names the claim's host. Only pinned jobs are read; a
 * content that cannot be read is passed over (the read reports or quarantines it).
 */
async function pinnedHere(ctx: StoreContext, c: Candidate, host: string | undefined): Promise<boolean> {
  if (host === undefined) return false;
  const content = c.content ?? (await ctx.readOrQuarantine(c.loc.queue, c.from, c.loc.name));
  return content !== null && content.pinnedHost === host;
}

/** Fails an expired job with no attempt left; a failure (a full disk) leaves it for the next claim. */
async function failExhausted(
  ctx: StoreContext,
  loc: Located<RunningName>,
  dirs: Set<string>,
  ended: Ended[],
): Promise<void> {
  const p = loc.parsed;
  let final: Ended | null = null;
  try {
    const r = await rewriteUnderLease(
      ctx,
      loc,
      (old) => ({ ...old, lastError: leaseExpiredError(p.owner) }),
      (at) => {
        const parsed = endedName(p, 'failed', at);
        final = { queue: loc.queue, name: formatName(parsed), parsed, heldKey: p.holds !== null };
        return parsed;
      },
      dirs,
      (old, at) => ({
        content: old,
        name: p,
        key: p.token,
        state: 'lease-lost',
        error: leaseExpiredError(p.owner),
        finishedAt: at,
      }),
    );
    if (r === 'ok' && final !== null) ended.push(final);
    ctx.jobsFinished([p.id]);
  } catch (err) {
    const path = ctx.layout.file(loc.queue, 'running', loc.name);
    ctx.problems.report(
      'unreadable',
      path,
      `job ${p.id}'s lease expired with no attempt left, but it could not be failed (${describeCondition(err)}); the next claim tries again`,
      toStoreError(ctx.layout.root, 'claim', err),
    );
  }
}

/**
 * Undoes claims: renames each taken job back to the name it had (its attempt not counted). A job
 * that cannot be put back keeps this claim's lease, and comes back when that expires.
 */
async function giveBack(ctx: StoreContext, taken: readonly Taken[]): Promise<void> {
  const dirs = new Set<string>();
  await Promise.all(
    taken.map(async (t) => {
      const from = ctx.layout.file(t.loc.queue, 'running', t.loc.name);
      try {
        await fsOps.rename(from, t.source);
        dirs.add(ctx.layout.stateDir(t.loc.queue, 'running'));
        dirs.add(dirname(t.source));
      } catch (err) {
        if (isMissing(err)) return; // cancelled meanwhile: nothing to give back
        ctx.problems.report(
          'stranded',
          from,
          `a claim failed part-way and job ${t.loc.parsed.id} could not be given back (${describeCondition(err)}); it is claimable again when its lease expires at ${new Date(t.loc.parsed.expiresAt).toISOString()}`,
          toStoreError(ctx.layout.root, 'claim', err),
        );
      }
    }),
  );
  await ctx.syncer.syncAll(dirs).catch(() => undefined);
}

function unreachable(x: never): never {
  throw new TypeError(`unexpected read result ${JSON.stringify(x)}`);
}
