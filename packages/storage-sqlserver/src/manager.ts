import {
  InvalidOptionError,
  leaseExpiredError,
  toJobError,
  type ClaimedJob,
  type ClaimRequest,
  type IJobQueueManager,
  type JobLease,
  type JobOutcome,
  type JobProgress,
  type LeaseCheck,
} from '@oddjob/core';
import { affected, chunk, isUuidShaped, rounds, type SqlServerContext } from './context.js';
import { byRunAtThenId, progressToText, rowToJob, type JobRow } from './row-mapping.js';
import {
  claimJobs,
  extendLeases,
  LEASE_PARAMS_PER_ROW,
  MAX_PARAMS,
  OUTCOME_PARAMS_PER_ROW,
  recordOutcomes,
  reportProgress,
  type OutcomeRow,
} from './statements.js';

/** DATEADD takes an int: a lease can be at most 2^31-1 ms (about 24.8 days). */
const MAX_LEASE_MS = 2_147_483_647;
const MAX_QUEUES = 1000;

/**
 * Core's LeaseExpiredError as a JSON head and tail around the owner's name: the claim statement
 * splices in STRING_ESCAPE(owner, 'json'), so the stored error is exactly core's, owner included.
 */
export function leaseErrorJson(): { head: string; tail: string } {
  const marker = '\u0000';
  const sample = leaseExpiredError(marker);
  const [before, after] = sample.message.split(marker) as [string, string];
  return {
    head: `{"name":${JSON.stringify(sample.name)},"message":${JSON.stringify(before).slice(0, -1)}`,
    tail: `${JSON.stringify(after).slice(1)}}`,
  };
}

function checkLeaseMs(leaseMs: unknown): number {
  if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new InvalidOptionError('leaseMs', `must be an integer from 1 to ${MAX_LEASE_MS}, got ${String(leaseMs)}`);
  }
  return leaseMs;
}

const OUTCOME_KINDS = new Set(['done', 'failed', 'retry', 'released']);

/** The executor's side of the SQL Server store. */
export class SqlServerJobQueueManager implements IJobQueueManager {
  private readonly leaseError = leaseErrorJson();

  constructor(private readonly ctx: SqlServerContext) {}

  async getJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const { queues, limit, owner } = request;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `must be an integer >= 1, got ${String(limit)}`);
    if (!Array.isArray(queues) || queues.some((q) => typeof q !== 'string')) throw new InvalidOptionError('queues', 'must be an array of queue names');
    if (queues.length > MAX_QUEUES) throw new InvalidOptionError('queues', `at most ${MAX_QUEUES} queues per claim`);
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) {
      throw new InvalidOptionError('owner', 'must be a string of 1 to 200 characters');
    }
    const leaseMs = checkLeaseMs(request.leaseMs);
    // A queue name longer than the column can hold cannot have jobs (core caps names at 100).
    const asked = [...new Set(queues)].filter((q) => q.length <= 100);
    if (asked.length === 0) return [];
    const result = await this.ctx.runner.run<JobRow>(
      claimJobs(this.ctx.names, { queues: asked, limit, owner, leaseMs }, this.leaseError),
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
    return claimed.sort(byRunAtThenId);
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    const results: LeaseCheck[] = outcomes.map(() => 'lease-lost');
    const rows: { row: OutcomeRow; index: number }[] = [];
    outcomes.forEach((o, index) => {
      if (o === null || typeof o !== 'object' || !OUTCOME_KINDS.has(o.kind)) {
        throw new InvalidOptionError(`outcomes[${index}].kind`, `must be done, failed, retry or released, got ${JSON.stringify((o as { kind?: unknown })?.kind)}`);
      }
      if ((o.kind === 'failed' || o.kind === 'retry') && (o.error === null || typeof o.error !== 'object')) {
        throw new InvalidOptionError(`outcomes[${index}].error`, 'is required for failed and retry');
      }
      if (o.kind === 'retry' && (!(o.runAt instanceof Date) || Number.isNaN(o.runAt.getTime()))) {
        throw new InvalidOptionError(`outcomes[${index}].runAt`, 'must be a valid Date');
      }
      if (!isUuidShaped(o.lease?.jobId) || !isUuidShaped(o.lease?.token)) return; // cannot match: lease-lost
      rows.push({
        index,
        row: {
          jobId: o.lease.jobId,
          token: o.lease.token,
          kind: o.kind,
          error: o.kind === 'failed' || o.kind === 'retry' ? JSON.stringify(o.error) : null,
          runAt: o.kind === 'retry' ? o.runAt : null,
        },
      });
    });
    // One outcome per job per statement, applied round after round in the order given.
    for (const round of rounds(rows, (r) => r.row.jobId)) {
      for (const piece of chunk(round, Math.floor(MAX_PARAMS / OUTCOME_PARAMS_PER_ROW))) {
        const result = await this.ctx.runner.run<{ id: string; token: string }>(
          recordOutcomes(this.ctx.names, piece.map((p) => p.item.row)),
        );
        const applied = new Set((result.recordset ?? []).map((r) => `${r.id}/${r.token}`));
        for (const p of piece) if (applied.has(`${p.item.row.jobId}/${p.item.row.token}`)) results[p.item.index] = 'ok';
      }
    }
    return results;
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    checkLeaseMs(leaseMs);
    const results: LeaseCheck[] = leases.map(() => 'lease-lost');
    const valid = leases.flatMap((l, index) => (isUuidShaped(l?.jobId) && isUuidShaped(l?.token) ? [{ lease: l, index }] : []));
    for (const round of rounds(valid, (v) => v.lease.jobId)) {
      for (const piece of chunk(round, Math.floor((MAX_PARAMS - 1) / LEASE_PARAMS_PER_ROW))) {
        const result = await this.ctx.runner.run<{ id: string; token: string }>(
          extendLeases(this.ctx.names, piece.map((p) => p.item.lease), leaseMs),
        );
        const extended = new Set((result.recordset ?? []).map((r) => `${r.id}/${r.token}`));
        for (const p of piece) if (extended.has(`${p.item.lease.jobId}/${p.item.lease.token}`)) results[p.item.index] = 'ok';
      }
    }
    return results;
  }

  async reportProgress(lease: JobLease, progress: JobProgress): Promise<LeaseCheck> {
    const isNumber = typeof progress === 'number' && Number.isFinite(progress);
    const isObject = progress !== null && typeof progress === 'object' && !Array.isArray(progress);
    if (!isNumber && !isObject) throw new InvalidOptionError('progress', 'must be a finite number or a plain object');
    if (!isUuidShaped(lease?.jobId) || !isUuidShaped(lease?.token)) return 'lease-lost';
    const result = await this.ctx.runner.run(reportProgress(this.ctx.names, lease, progressToText(progress)));
    return affected(result) === 1 ? 'ok' : 'lease-lost';
  }
}
