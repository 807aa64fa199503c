// The executor's hot path apart from outcomes (outcome-ops.ts): claiming jobs, renewing their leases
// and storing progress, each fenced by the lease token. Apart from store.ts because these statements
// and their parameters are one concern and the store's wiring (pool, listener, lifecycle) is another;
// PostgresJobStore delegates to them.
import {
  byClaimOrder,
  checkClaimRequest,
  checkExtendLeases,
  checkProgress,
  leaseExpiredErrorParts,
  leaseTakeoverError,
  type ClaimedJob,
  type ClaimRequest,
  type JobLease,
  type JobProgress,
  type LeaseCheck,
} from '@oddjob/core';
import { randomUUID } from 'node:crypto';
import type { PgOps } from './admin-ops.js';
import { jsonText, toClaimedJob } from './rows.js';
import { isUuid } from './uuid.js';

/** core's LeaseExpiredError, split around the owner so the claim statement can build it per row. */
const LEASE_EXPIRED = leaseExpiredErrorParts();

/** core's takeover error (the run record of an attempt whose expired lease a claim took over), split the same way. */
const LEASE_TAKEOVER = (() => {
  const mark = '\u0001owner\u0001';
  const { message } = leaseTakeoverError(mark);
  const at = message.indexOf(mark);
  return { before: message.slice(0, at), after: message.slice(at + mark.length) };
})();

export async function claimJobs(c: PgOps, request: ClaimRequest): Promise<ClaimedJob[]> {
  const { queues: wanted, limit, owner, leaseMs, host, takeoverAfterMs } = checkClaimRequest(request);
  if (wanted.length === 0) return [];
  const claimed: ClaimedJob[] = [];
  // A claim that met spent jobs (lease expired, no attempt left) failed them and came back short
  // by as many: ask again for the rest, so a short answer still means the queues ran dry. Each
  // round fails such jobs for good, so this ends. The next round also hands out what those ends
  // admitted or released (a keyed job's successor, a child), as core's contract asks.
  for (;;) {
    const token = randomUUID();
    const rows = await c.db.runText('claim jobs', c.sql.claim, [
      c.now(),
      wanted,
      limit - claimed.length,
      owner,
      leaseMs,
      LEASE_EXPIRED.before,
      LEASE_EXPIRED.after,
      LEASE_EXPIRED.name,
      token,
      host ?? null,
      LEASE_TAKEOVER.before,
      LEASE_TAKEOVER.after,
      takeoverAfterMs,
      c.notify,
    ]);
    let reaped = 0;
    for (const row of rows) {
      if (row[1] === null) reaped++;
      else claimed.push(toClaimedJob(row, owner, token, host ?? null));
    }
    if (reaped === 0 || claimed.length === limit) break;
  }
  return claimed.sort(byClaimOrder);
}

export async function extendLeases(c: PgOps, leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
  checkExtendLeases(leases, leaseMs);
  const valid = leases.filter((l) => l && isUuid(l.jobId) && typeof l.token === 'string');
  if (valid.length === 0) return leases.map(() => 'lease-lost');
  const rows = await c.db.run<{ id: string; token: string }>('extend leases', c.sql.extendLeases, [
    c.now(),
    valid.map((l) => l.jobId),
    valid.map((l) => l.token),
    leaseMs,
  ]);
  const held = new Set(rows.map((r) => `${r.id}/${r.token}`));
  return leases.map((l) => (l && held.has(`${l.jobId}/${l.token}`) ? 'ok' : 'lease-lost'));
}

export async function reportProgress(
  c: PgOps,
  lease: JobLease,
  progress: JobProgress,
  message?: string | null,
): Promise<LeaseCheck> {
  const text = checkProgress(progress, message);
  const json = jsonText(progress, 'progress');
  if (!lease || !isUuid(lease.jobId) || typeof lease.token !== 'string') return 'lease-lost';
  const rows = await c.db.run('report progress', c.sql.reportProgress, [c.now(), lease.jobId, lease.token, json, text]);
  return rows.length === 1 ? 'ok' : 'lease-lost';
}
