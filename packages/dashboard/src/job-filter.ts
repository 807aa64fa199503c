// The job filter the list and bulk routes share: the query's status, queue and target turned into a
// store filter, and the text match the list applies itself. Apart from the route files because both
// the read routes (routes-jobs.ts) and the bulk action (routes-job-actions.ts) parse it the same way.
import { isJobStatus, JOB_STATUSES, type JobStatus } from '@oddjob/core';
import type { BaseFilter } from './cursor.js';
import { DashboardHttpError } from './errors.js';

export interface FilterQuery {
  status?: string;
  queue?: string;
  target?: string;
  sequence?: string;
  sequenceRun?: string;
  text?: string;
  limit?: number;
  cursor?: string;
}

export function parseStatuses(text: string | undefined): JobStatus[] | undefined {
  if (text === undefined || text === '') return undefined;
  const list = text.split(',').map((s) => s.trim());
  for (const s of list)
    if (!isJobStatus(s)) throw new DashboardHttpError(400, `status "${s}" is not one of ${JOB_STATUSES.join(', ')}`);
  return list as JobStatus[];
}

export function baseFilter(q: {
  status?: string;
  queue?: string;
  target?: string;
  sequence?: string;
  sequenceRun?: string;
}): BaseFilter {
  const status = parseStatuses(q.status);
  return {
    ...(status === undefined ? {} : { status: status.length === 1 ? status[0] : status }),
    ...(q.queue ? { queue: q.queue } : {}),
    ...(q.target ? { target: q.target } : {}),
    ...(q.sequence ? { sequence: q.sequence } : {}),
    ...(q.sequenceRun ? { sequenceRun: q.sequenceRun } : {}),
  };
}

export function matches(
  text: string,
  r: {
    id: string;
    method: string;
    args: string;
    metadata: unknown;
    lastError: { message: string; name: string } | null;
  },
): boolean {
  const t = text.toLowerCase();
  return (
    r.id.includes(t) ||
    r.method.toLowerCase().includes(t) ||
    r.args.toLowerCase().includes(t) ||
    JSON.stringify(r.metadata).toLowerCase().includes(t) ||
    (r.lastError !== null &&
      (r.lastError.message.toLowerCase().includes(t) || r.lastError.name.toLowerCase().includes(t)))
  );
}
