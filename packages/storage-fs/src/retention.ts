import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InvalidOptionError,
  resolveRetention as resolveShared,
  type RetentionOptions as SharedRetentionOptions,
  type ResolvedRetention,
} from '@oddjob/core';
import { purgeJobs } from './admin.js';
import { fsOps } from './fs-ops.js';
import { FINAL_DIRS } from './layout.js';
import { recoverFlow } from './recovery.js';
import type { StoreContext } from './store-context.js';

/**
 * The file store's retention: core's shared vocabulary (`doneMs`, `failedMs`, `cancelledMs`,
 * `intervalMs`; off unless set, as on every store), plus the names it had before, still accepted.
 */
export interface RetentionOptions extends SharedRetentionOptions {
  /** @deprecated Use `intervalMs`. */
  sweepIntervalMs?: number;
}

/** The background sweep runs at least this often, to clear temp files of dead writers (tmp/). */
export const HOUSEKEEPING_INTERVAL_MS = 60_000;

/**
 * Leftovers in tmp/ older than this (by the file system's own clock) belong to writers that died:
 * every write moves its temp file out of tmp/ within milliseconds.
 */
const STALE_TEMP_MS = 3_600_000;

/**
 * Checks the retention option. `false` (the old way to say "off") and `Infinity` for a status (the
 * old way to say "keep forever") still mean what they meant; both are now simply the default.
 */
export function resolveRetention(options: RetentionOptions | false | undefined): ResolvedRetention {
  if (options === false || options === undefined) return resolveShared(undefined);
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('retention', 'must be an object');
  const { sweepIntervalMs, ...shared } = options;
  if (sweepIntervalMs !== undefined && shared.intervalMs !== undefined) {
    throw new InvalidOptionError(
      'retention.sweepIntervalMs',
      'is the old name of retention.intervalMs: give only one of them',
    );
  }
  // The old name allowed 0 ("at every claim"); the shared one wants > 0, and 1 ms means the same.
  const merged: SharedRetentionOptions = {
    ...shared,
    intervalMs: shared.intervalMs ?? (sweepIntervalMs === 0 ? 1 : sweepIntervalMs),
  };
  for (const k of ['doneMs', 'failedMs', 'cancelledMs', 'intervalMs'] as const) {
    if (merged[k] === Number.POSITIVE_INFINITY || merged[k] === undefined) delete merged[k];
  }
  return resolveShared(merged);
}

/**
 * Removes finished jobs past their retention (only the statuses with a keep time set; none with
 * `retention` null) and temp files of dead writers; returns how many jobs were removed.
 */
export async function sweep(ctx: StoreContext, retention: ResolvedRetention | null): Promise<number> {
  const now = ctx.nowMs();
  let purged = 0;
  await recoverFlow(ctx);
  for (const status of FINAL_DIRS) {
    const keep = retention?.[`${status}Ms`];
    if (keep === undefined) continue;
    purged += await purgeJobs(ctx, { statuses: [status], queue: undefined, finishedBefore: new Date(now - keep) });
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await fsOps.readdir(ctx.layout.tmp)) {
    const path = join(ctx.layout.tmp, name);
    const info = await stat(path).catch(() => null);
    if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
  }
  return purged;
}
