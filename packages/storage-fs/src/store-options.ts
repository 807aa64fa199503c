/**
 * The options a file store is made with. Apart from file-store.ts so that the store class reads as
 * the list of its operations, and the documentation of each option has room of its own.
 */
import type { Clock } from '@oddjob/core';
import type { StoreProblem } from './problems.js';
import type { RetentionOptions } from './retention.js';

export interface FileStoreOptions {
  /** The store's directory. Several processes on one host may share it. */
  dir: string;
  /**
   * Create the store if `dir` is missing or empty (default false: a missing or foreign directory is
   * an error, so a typo in a path does not silently start an empty queue).
   */
  create?: boolean;
  /** Every "now" (runAt, lease expiry, retention) is read from it. Default: the system clock. */
  clock?: Clock;
  /**
   * How long finished jobs are kept (core's shared vocabulary: `doneMs`, `failedMs`, `cancelledMs`,
   * `intervalMs`). Off by default, as on every store: finished jobs stay until `purgeJobs`, or until
   * the keep times set here pass — removed every `intervalMs` in the background (triggered by
   * claims), or by `sweep()`. `false` (the old "off") is still accepted and means the default.
   */
  retention?: RetentionOptions | false;
  /**
   * Told about what the store met and worked around without failing a call: an entry moved to
   * corrupt/, an entry skipped because it cannot be read, a failed background sweep (see
   * StoreProblem). Default: `process.emitWarning`, so that nothing is skipped silently. The same
   * entry is reported at most once a minute; `problems()` keeps the last hundred.
   */
  onProblem?: (problem: StoreProblem) => void;
}
