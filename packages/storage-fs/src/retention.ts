import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError } from '@oddjob/core';
import { purgeJobs } from './admin.js';
import { FINAL_DIRS } from './layout.js';
import type { StoreContext } from './store-context.js';

/** How long finished jobs are kept, per final status; `Infinity` keeps them until purged by hand. */
export interface RetentionOptions {
  /** Default one day. */
  doneMs?: number;
  /** Default seven days: failures are what people come back to look at. */
  failedMs?: number;
  /** Default one day. */
  cancelledMs?: number;
  /** How often (by the store's clock) a claim triggers a background sweep. Default one minute. */
  sweepIntervalMs?: number;
}

export type Retention = Required<RetentionOptions>;

const DAY = 24 * 3_600_000;
export const DEFAULT_RETENTION: Retention = Object.freeze({ doneMs: DAY, failedMs: 7 * DAY, cancelledMs: DAY, sweepIntervalMs: 60_000 });

/**
 * Leftovers in tmp/ older than this (by the file system's own clock) belong to writers that died:
 * every write moves its temp file out of tmp/ within milliseconds.
 */
const STALE_TEMP_MS = 3_600_000;

export function resolveRetention(options: RetentionOptions | false | undefined): Retention | null {
  if (options === false) return null;
  const r = { ...DEFAULT_RETENTION, ...(options ?? {}) };
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new InvalidOptionError(`retention.${k}`, `must be a number >= 0 (or Infinity), got ${String(v)}`);
  }
  return r;
}

/** Removes finished jobs past their retention and temp files of dead writers; returns jobs removed. */
export async function sweep(ctx: StoreContext, retention: Retention): Promise<number> {
  const now = ctx.nowMs();
  let purged = 0;
  for (const status of FINAL_DIRS) {
    const keep = retention[`${status}Ms`];
    if (!Number.isFinite(keep)) continue;
    purged += await purgeJobs(ctx, { statuses: [status], finishedBefore: new Date(now - keep) });
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await readdir(ctx.layout.tmp)) {
    const path = join(ctx.layout.tmp, name);
    const info = await stat(path).catch(() => null);
    if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
  }
  return purged;
}
