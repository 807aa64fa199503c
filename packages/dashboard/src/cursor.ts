import { MAX_AFTER_ID_LENGTH, type IJobQueueAdmin, type JobFilter, type JobRecord } from '@oddjob/core';
import { DashboardHttpError } from './errors.js';

/**
 * Keyset paging over `IJobQueueAdmin.listJobs`: a cursor names the last id seen, and the next page is
 * `listJobs({ afterId })`, which every store answers by seeking to that id (the primary key on the
 * SQL stores), so a deep page costs what the first does, and jobs added, deleted or changing status
 * between two pages never make a page repeat or skip a job.
 *
 * The text is base64url of `[afterId]`. Servers before `afterId` existed handed out
 * `[afterId, offset]`, where the offset was only a hint for finding the key; such a cursor names the
 * same key, so it is still taken (its offset ignored) and reads the same page it always did.
 */
export interface Cursor {
  afterId: string;
}

export type BaseFilter = Pick<JobFilter, 'status' | 'queue' | 'target' | 'sequence' | 'sequenceRun'>;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.afterId])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
  } catch {
    v = undefined;
  }
  const current = Array.isArray(v) && v.length === 1;
  const old = Array.isArray(v) && v.length === 2 && Number.isInteger(v[1]) && (v[1] as number) >= 0;
  if ((current || old) && typeof (v as unknown[])[0] === 'string') {
    const afterId = (v as string[])[0];
    if (afterId.length <= MAX_AFTER_ID_LENGTH) return { afterId };
  }
  throw new DashboardHttpError(400, `cursor "${text.slice(0, 200)}" is not a cursor this server handed out`);
}

/** Up to `count` rows after the cursor (or from the start), in id order. */
export function readAfter(
  admin: IJobQueueAdmin,
  filter: BaseFilter,
  count: number,
  cursor: Cursor | null,
): Promise<JobRecord[]> {
  return admin.listJobs({ ...filter, ...(cursor === null ? {} : { afterId: cursor.afterId }), limit: count });
}
