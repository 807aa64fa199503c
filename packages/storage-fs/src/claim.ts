import { rename } from 'node:fs/promises';
import { InvalidOptionError, leaseExpiredError, type ClaimedJob, type ClaimRequest } from '@oddjob/core';
import { toRecord } from './content.js';
import { isMissing } from './durable.js';
import { byRunAtThenId, encodeComponent, formatName, type ReadyName, type RunningName } from './layout.js';
import { newToken, rewriteUnderLease } from './rewrite.js';
import type { Located, StoreContext } from './store-context.js';

/** Owners go into file names; this keeps a running job's name well under the 255-byte limit. */
const MAX_ENCODED_OWNER = 100;

interface Candidate {
  loc: Located<ReadyName | RunningName>;
  from: 'ready' | 'running';
  runAt: number;
  id: string;
  attempts: number;
}

function checkRequest(request: ClaimRequest): void {
  if (request === null || typeof request !== 'object') throw new InvalidOptionError('request', 'must be a claim request');
  if (!Number.isInteger(request.limit) || request.limit < 1) {
    throw new InvalidOptionError('limit', `must be an integer >= 1, got ${String(request.limit)}`);
  }
  if (typeof request.leaseMs !== 'number' || !Number.isFinite(request.leaseMs) || request.leaseMs <= 0) {
    throw new InvalidOptionError('leaseMs', `must be a finite number > 0, got ${String(request.leaseMs)}`);
  }
  if (typeof request.owner !== 'string' || request.owner.length === 0) {
    throw new InvalidOptionError('owner', 'must be a non-empty string');
  }
  if (encodeComponent(request.owner).length > MAX_ENCODED_OWNER) {
    throw new InvalidOptionError('owner', `"${request.owner}" is too long for the file store (at most ${MAX_ENCODED_OWNER} characters once %-encoded)`);
  }
  if (!Array.isArray(request.queues) || request.queues.some((q) => typeof q !== 'string')) {
    throw new InvalidOptionError('queues', 'must be an array of queue names');
  }
}

/**
 * Claims up to `limit` jobs. The listing is only a snapshot; the claim of each job is a rename,
 * which fails for every process but one, so losers simply move on to the next candidate.
 *
 * Before claiming, jobs of every queue whose lease expired with no attempt left are failed (as the
 * memory store does): a job that kills its process on every run must not loop forever.
 */
export async function claimJobs(ctx: StoreContext, request: ClaimRequest): Promise<ClaimedJob[]> {
  checkRequest(request);
  const now = ctx.nowMs();
  const wanted = new Set(request.queues);
  const candidates: Candidate[] = [];
  const dirs = new Set<string>();

  for (const queue of await ctx.listQueues()) {
    for (const loc of (await ctx.listState(queue, 'running')) as Located<RunningName>[]) {
      const p = loc.parsed;
      if (p.expiresAt > now) continue;
      // Whether an attempt is left depends on the retry policy, which is in the content; expired
      // leases are rare, so reading these few files is cheap.
      const content = await ctx.readOrQuarantine(queue, 'running', loc.name);
      if (!content) continue;
      if (p.attempts >= content.retry.maxAttempts) {
        await rewriteUnderLease(
          ctx,
          loc,
          (old) => ({ ...old, lastError: leaseExpiredError(p.owner) }),
          (at) => ({ state: 'failed', finishedAt: at, id: p.id, attempts: p.attempts, runAt: p.runAt }),
          dirs,
        );
      } else if (wanted.has(queue)) {
        candidates.push({ loc, from: 'running', runAt: p.runAt, id: p.id, attempts: p.attempts });
      }
    }
    if (!wanted.has(queue)) continue;
    for (const loc of (await ctx.listState(queue, 'ready')) as Located<ReadyName>[]) {
      if (loc.parsed.runAt <= now) candidates.push({ loc, from: 'ready', runAt: loc.parsed.runAt, id: loc.parsed.id, attempts: loc.parsed.attempts });
    }
  }
  candidates.sort(byRunAtThenId);

  const claimed: Located<RunningName>[] = [];
  for (const c of candidates) {
    if (claimed.length >= request.limit) break;
    const parsed: RunningName = {
      state: 'running',
      id: c.id,
      token: newToken(),
      expiresAt: now + request.leaseMs,
      attempts: c.attempts + 1,
      runAt: c.runAt,
      updatedAt: now,
      owner: request.owner,
    };
    const name = formatName(parsed);
    try {
      await rename(ctx.layout.file(c.loc.queue, c.from, c.loc.name), ctx.layout.file(c.loc.queue, 'running', name));
    } catch (err) {
      if (isMissing(err)) continue; // another claimer (or a cancel) got there first
      throw err;
    }
    dirs.add(ctx.layout.stateDir(c.loc.queue, c.from));
    dirs.add(ctx.layout.stateDir(c.loc.queue, 'running'));
    claimed.push({ queue: c.loc.queue, name, parsed });
  }
  // The attempt is counted at claim, so the claim must survive a crash of the machine as well.
  await ctx.syncer.syncAll(dirs);

  const jobs = await Promise.all(
    claimed.map(async (loc) => {
      const content = await ctx.readOrQuarantine(loc.queue, 'running', loc.name);
      if (!content) return null; // corrupt (now in corrupt/), or cancelled since
      ctx.runningNames.set(loc.parsed.id, loc);
      return toRecord(content, loc.parsed) as ClaimedJob;
    }),
  );
  return jobs.filter((j): j is ClaimedJob => j !== null);
}
