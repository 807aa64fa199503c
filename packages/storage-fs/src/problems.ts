import type { OddJobError } from '@oddjob/core';

/**
 * What the store met and worked around without failing the call that met it:
 * - 'quarantined': a file that cannot be a job was moved to corrupt/ (see `listCorrupt()`);
 * - 'unreadable': an entry could not be read or moved aside, so it was skipped and left where it is
 *   (it is tried again later; the message says why it could not be handled);
 * - 'stranded': undoing a half-done step failed, so a job sits under a name that only expiry brings
 *   back (the message says which and when);
 * - 'unrecorded': a run record (or log lines given with an outcome) could not be written after the
 *   job's own change was made; the job is as asked, its history misses that piece;
 * - 'sweep-failed': a background retention sweep failed (it runs again at the next interval);
 * - 'watch-failed': a directory watch for wake-ups failed; polling still finds the jobs;
 * - 'deferred': a step that follows a job's end (a child's decision, the next admission of its
 *   concurrency key, letting its unique key go) failed after the end itself was written; the
 *   recovery pass (store open, background sweep) redoes it.
 */
export type StoreProblemKind =
  'quarantined' | 'unreadable' | 'stranded' | 'unrecorded' | 'sweep-failed' | 'watch-failed' | 'deferred';

export interface StoreProblem {
  readonly kind: StoreProblemKind;
  /** By the store's clock. */
  readonly at: Date;
  /** The entry or directory concerned, when there is one. */
  readonly path: string | null;
  /** A sentence naming the path, what happened and what the store did about it. */
  readonly message: string;
  /** The underlying failure, in core's error family, when there is one. */
  readonly error: OddJobError | null;
}

/** Default listener: a process warning, so that a skipped entry is visible even if nobody subscribed. */
export function warnProblem(problem: StoreProblem): void {
  process.emitWarning(problem.message, {
    type: 'OddJobFileStoreWarning',
    code: `ODDJOB_FS_${problem.kind.toUpperCase().replace(/-/g, '_')}`,
  });
}

/** How many problems `recent()` keeps. */
const KEEP = 100;
/** The same kind of problem with the same entry is reported at most this often. */
const REPEAT_MS = 60_000;

/**
 * Reports problems to a listener and keeps the last few for `FileJobStore.problems()`. An entry that
 * cannot be handled is met again by every claim; it is reported once a minute, not once a claim.
 */
export class ProblemLog {
  private readonly kept: StoreProblem[] = [];
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly listener: (problem: StoreProblem) => void,
    private readonly nowMs: () => number,
  ) {}

  report(kind: StoreProblemKind, path: string | null, message: string, error: OddJobError | null = null): void {
    const now = this.nowMs();
    const key = `${kind}\n${path ?? ''}`;
    const seen = this.lastSeen.get(key);
    if (seen !== undefined && now - seen < REPEAT_MS && now >= seen) return;
    this.lastSeen.set(key, now);
    if (this.lastSeen.size > 10 * KEEP) {
      for (const [k, at] of this.lastSeen) if (now - at >= REPEAT_MS) this.lastSeen.delete(k);
    }
    const problem: StoreProblem = Object.freeze({ kind, at: new Date(now), path, message, error });
    this.kept.push(problem);
    if (this.kept.length > KEEP) this.kept.shift();
    try {
      this.listener(problem);
    } catch {
      // The listener's failure is its own; the store has already dealt with the problem.
    }
  }

  /** The most recent problems, oldest first (a frozen copy). */
  recent(): readonly StoreProblem[] {
    return Object.freeze(this.kept.slice());
  }
}
