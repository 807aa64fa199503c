import {
  byClaimOrder,
  DEPENDENCY_ERROR_NAME,
  checkClaimRequest,
  checkExtendLeases,
  checkLogAppends,
  checkOutcomes,
  checkProgress,
  InvalidOptionError,
  leaseExpiredError,
  leaseTakeoverError,
  rounds,
  toJobError,
  type ClaimedJob,
  type ClaimRequest,
  type IJobQueueManager,
  type JobError,
  type JobLease,
  type JobLogLine,
  type JobOutcome,
  type JobProgress,
  type LeaseCheck,
  type LogAppend,
} from '@oddjob/core';
import { affected, chunk, isUuidShaped, pack, type SqlServerContext } from './context.js';
import { progressToText, rowToJob, type JobRow } from './row-mapping.js';
import {
  appendLogs,
  claimJobs,
  extendLeases,
  LEASE_PARAMS_PER_ROW,
  LOG_ENTRY_PARAMS,
  LOG_LINE_PARAMS,
  LOG_PARAMS_PER_LINE,
  MAX_PARAMS,
  OUTCOME_PARAMS_PER_ROW,
  recordOutcomes,
  recordOutcomesWithHistory,
  reportProgress,
  type LogEntryRow,
  type OutcomeLogLine,
  type OutcomeRow,
} from './statements.js';

/**
 * One of core's owner-naming errors as a JSON head and tail around the owner's name: a statement
 * splices in STRING_ESCAPE(owner, 'json') between them, so the stored error is exactly core's, owner
 * included. Found by building the error around a marker no owner contains and cutting its JSON there.
 */
export function ownerErrorJson(make: (owner: string) => JobError): { head: string; tail: string } {
  const mark = '\u0001owner\u0001';
  const json = JSON.stringify(make(mark));
  const quoted = JSON.stringify(mark).slice(1, -1);
  const at = json.indexOf(quoted);
  if (at < 0 || json.indexOf(quoted, at + 1) >= 0) throw new Error('the error must name its owner exactly once');
  return { head: json.slice(0, at), tail: json.slice(at + quoted.length) };
}

/** Core's LeaseExpiredError (a lease that ran out on the last attempt), as ownerErrorJson parts. */
export function leaseErrorJson(): { head: string; tail: string } {
  return ownerErrorJson(leaseExpiredError);
}

/** Core's takeover error (a lease that ran out, the job claimed again), as ownerErrorJson parts. */
export function takeoverErrorJson(): { head: string; tail: string } {
  return ownerErrorJson(leaseTakeoverError);
}

/**
 * Core's DependencyError (a child its parents cancelled) as head and tail around its message, which
 * the settle routine builds in T-SQL with decideChild's texts (statements/flow.ts).
 */
export function dependencyErrorJson(): { head: string; tail: string } {
  return ownerErrorJson((message) => ({ name: DEPENDENCY_ERROR_NAME, message }));
}

/** Log lines an outcome statement carries with one outcome; more go first through appendLogs. */
export const MAX_LINES_WITH_OUTCOME = Math.floor((MAX_PARAMS - OUTCOME_PARAMS_PER_ROW) / LOG_PARAMS_PER_LINE);
/** Log lines one appendLogs statement carries for one entry; a longer entry spans statements. */
export const MAX_LINES_PER_ENTRY = Math.floor((MAX_PARAMS - LOG_ENTRY_PARAMS) / LOG_LINE_PARAMS);

/** The executor's side of the SQL Server store. */
export class SqlServerJobQueueManager implements IJobQueueManager {
  private readonly leaseError = leaseErrorJson();
  private readonly takeoverError = takeoverErrorJson();
  private readonly dependencyError = dependencyErrorJson();

  constructor(private readonly ctx: SqlServerContext) {}

  async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const { queues, limit, owner, leaseMs, host, takeoverAfterMs } = checkClaimRequest(request);
    // A queue name longer than the column can hold cannot have jobs (core caps names at 100).
    const asked = queues.filter((q) => q.length <= 100);
    if (asked.length === 0) return [];
    const result = await this.ctx.runner.run<JobRow>(
      claimJobs(
        this.ctx.names,
        { queues: asked, limit, owner, leaseMs, host: host ?? null, takeoverAfterMs },
        this.leaseError,
        this.takeoverError,
        this.dependencyError,
      ),
    );
    const rows = (result.recordsets.length === 0 ? [] : result.recordsets[result.recordsets.length - 1]) as JobRow[];
    const claimed: ClaimedJob[] = [];
    const unreadable: JobOutcome[] = [];
    for (const row of rows) {
      try {
        claimed.push(rowToJob(row) as ClaimedJob);
      } catch (err) {
        // A row we cannot even map (hand-edited JSON columns) is failed at once under the lease we
        // just took, so it neither blocks the batch nor comes back until its attempts run out.
        unreadable.push({ kind: 'failed', lease: { jobId: row.id, token: row.lease_token! }, error: toJobError(err) });
      }
    }
    if (unreadable.length > 0) await this.recordOutcomes(unreadable);
    // OUTPUT returns rows in no promised order: sort the batch into the claim's order.
    return claimed.sort(byClaimOrder);
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    checkOutcomes(outcomes);
    const results: LeaseCheck[] = outcomes.map(() => 'lease-lost');
    const rows: { row: OutcomeRow; lines: readonly JobLogLine[]; index: number }[] = [];
    outcomes.forEach((o, index) => {
      if ((o.kind === 'failed' || o.kind === 'retry') && (o.error === null || typeof o.error !== 'object')) {
        throw new InvalidOptionError(`outcomes[${index}].error`, 'is required for failed and retry');
      }
    });
    for (const [index, o] of outcomes.entries()) {
      if (!isUuidShaped(o.lease?.jobId) || !isUuidShaped(o.lease?.token)) continue; // cannot match: lease-lost
      let lines = o.logs ?? [];
      if (lines.length > MAX_LINES_WITH_OUTCOME) {
        // More lines than one statement binds beside the outcome: the earlier ones are appended
        // first, fenced by the same lease — as if the job had flushed them a moment before it ended.
        await this.appendLogs([{ lease: o.lease, lines: lines.slice(0, lines.length - MAX_LINES_WITH_OUTCOME) }]);
        lines = lines.slice(lines.length - MAX_LINES_WITH_OUTCOME);
      }
      rows.push({
        index,
        lines,
        row: {
          jobId: o.lease.jobId,
          token: o.lease.token,
          kind: o.kind,
          error: o.kind === 'failed' || o.kind === 'retry' ? JSON.stringify(o.error) : null,
          runAt: o.kind === 'retry' ? o.runAt : null,
          result: o.kind === 'done' ? (o.result ?? null) : null,
        },
      });
    }
    // One outcome per job per statement, applied round after round in the order given.
    for (const round of rounds(rows, (r) => r.row.jobId)) {
      const cost = (p: (typeof round)[number]) => OUTCOME_PARAMS_PER_ROW + LOG_PARAMS_PER_LINE * p.item.lines.length;
      for (const piece of pack(round, cost, MAX_PARAMS)) {
        const outcomeRows = piece.map((p) => p.item.row);
        // Only a batch of done outcomes without lines writes no history: the hot path's one statement.
        const history = piece.some((p) => p.item.row.kind !== 'done' || p.item.lines.length > 0);
        const lines: OutcomeLogLine[] = piece.flatMap((p, outcome) =>
          p.item.lines.map((l) => ({ outcome, at: l.at, level: l.level, message: l.message })),
        );
        const statement = history
          ? recordOutcomesWithHistory(this.ctx.names, outcomeRows, lines, this.dependencyError)
          : recordOutcomes(this.ctx.names, outcomeRows, this.dependencyError);
        const result = await this.ctx.runner.run<{ id: string; token: string }>(statement);
        const returned =
          result.recordsets.length === 0
            ? []
            : (result.recordsets[result.recordsets.length - 1] as { id: string; token: string }[]);
        const applied = new Set(returned.map((r) => `${r.id}/${r.token}`));
        for (const p of piece) if (applied.has(`${p.item.row.jobId}/${p.item.row.token}`)) results[p.item.index] = 'ok';
      }
    }
    return results;
  }

  async appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    checkLogAppends(entries);
    const results: LeaseCheck[] = entries.map(() => 'lease-lost');
    // Each entry becomes one or more slices (an entry with more lines than a statement binds spans
    // several, in order); the entry is 'ok' only if every one of its slices was written.
    const slices: { entry: number; row: LogEntryRow }[] = [];
    const sliceCount = new Map<number, number>();
    entries.forEach((e, entry) => {
      if (!isUuidShaped(e.lease.jobId) || !isUuidShaped(e.lease.token)) return; // cannot match: lease-lost
      const pieces = e.lines.length === 0 ? [[]] : chunk(e.lines, MAX_LINES_PER_ENTRY);
      sliceCount.set(entry, pieces.length);
      for (const lines of pieces) slices.push({ entry, row: { jobId: e.lease.jobId, token: e.lease.token, lines } });
    });
    const written = new Map<number, number>();
    for (const round of rounds(slices, (s) => s.row.jobId)) {
      const cost = (s: (typeof round)[number]) => LOG_ENTRY_PARAMS + LOG_LINE_PARAMS * s.item.row.lines.length;
      for (const piece of pack(round, cost, MAX_PARAMS)) {
        const result = await this.ctx.runner.run<{ id: string }>(
          appendLogs(
            this.ctx.names,
            piece.map((p) => p.item.row),
          ),
        );
        const returned =
          result.recordsets.length === 0 ? [] : (result.recordsets[result.recordsets.length - 1] as { id: string }[]);
        const wrote = new Set(returned.map((r) => r.id));
        for (const p of piece)
          if (wrote.has(p.item.row.jobId)) written.set(p.item.entry, (written.get(p.item.entry) ?? 0) + 1);
      }
    }
    for (const [entry, n] of sliceCount) if (written.get(entry) === n) results[entry] = 'ok';
    return results;
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    checkExtendLeases(leases, leaseMs);
    const results: LeaseCheck[] = leases.map(() => 'lease-lost');
    const valid = leases.flatMap((l, index) =>
      isUuidShaped(l?.jobId) && isUuidShaped(l?.token) ? [{ lease: l, index }] : [],
    );
    for (const round of rounds(valid, (v) => v.lease.jobId)) {
      for (const piece of chunk(round, Math.floor((MAX_PARAMS - 1) / LEASE_PARAMS_PER_ROW))) {
        const result = await this.ctx.runner.run<{ id: string; token: string }>(
          extendLeases(
            this.ctx.names,
            piece.map((p) => p.item.lease),
            leaseMs,
          ),
        );
        const extended = new Set((result.recordset ?? []).map((r) => `${r.id}/${r.token}`));
        for (const p of piece)
          if (extended.has(`${p.item.lease.jobId}/${p.item.lease.token}`)) results[p.item.index] = 'ok';
      }
    }
    return results;
  }

  async reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    const text = checkProgress(progress, message);
    if (!isUuidShaped(lease?.jobId) || !isUuidShaped(lease?.token)) return 'lease-lost';
    const result = await this.ctx.runner.run(reportProgress(this.ctx.names, lease, progressToText(progress), text));
    return affected(result) === 1 ? 'ok' : 'lease-lost';
  }
}
