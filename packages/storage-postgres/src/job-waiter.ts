// waitForJob on PostgreSQL: coalesced reads of the waited jobs, the `waited` mark, and the LISTEN
// watch that wakes a waiter when its job finishes. Apart from store.ts because waiting is its own
// protocol (mark before the first read, bounded wait for the LISTEN connection, polling underneath)
// and the store only hands it its database and listener.
import { waitForFinalJob, type JobRecord, type WaitOptions } from '@oddjob/core';
import { Coalescer } from './coalesce.js';
import type { Database } from './db.js';
import type { JobsAvailableListener } from './listener.js';
import { toJobRecord, type JobRow } from './rows.js';
import type { Statements } from './sql/index.js';
import { isUuid } from './uuid.js';

/**
 * How long waitForJob waits for the LISTEN connection before it relies on polling alone (the
 * connection may be down; it wakes every waiter once it is back).
 */
const LISTEN_WAIT_MS = 2_000;

export class JobWaiter {
  /** waitForJob's reads and marks, one statement per event-loop turn (see coalesce.ts). */
  private readonly reads = new Coalescer<JobRow | null>(async (ids) => {
    const rows = await this.db.run<JobRow>('get jobs', this.sql.getJobs, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }, null);
  private readonly marks = new Coalescer<null>(async (ids) => {
    await this.db.run('mark jobs waited', this.sql.markWaited, [ids]);
    return new Map();
  }, null);

  constructor(
    private readonly db: Database,
    private readonly sql: Statements,
    private readonly listener: JobsAvailableListener,
    /** The store's `notify` option: without it no finish is announced, and waiters only poll. */
    private readonly notify: boolean,
  ) {}

  /** See PostgresJobStore.waitForJob. */
  wait(id: string, options?: WaitOptions): Promise<JobRecord> {
    const watch = this.notify ? (jobId: string, wake: () => void) => this.watchFinish(jobId, wake) : undefined;
    return waitForFinalJob((jobId) => this.read(jobId), id, options, watch);
  }

  /** getJob for waiters, coalesced; each waiter gets its own copy (rows of one batch are shared). */
  private async read(id: string): Promise<JobRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.reads.get(id);
    return row === null ? null : toJobRecord(structuredClone(row));
  }

  /**
   * waitForJob's FinishWatch: LISTEN (bounded: polling covers a connection that is down), then mark
   * the job waited. Both happen before the waiter's first read, so a finish is either seen by that
   * read or committed after the mark and announced to a connection already listening.
   */
  private async watchFinish(id: string, wake: () => void): Promise<() => void> {
    const unwatch = this.listener.watchFinished(id, wake);
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.listener.whenListening(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, LISTEN_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (isUuid(id)) await this.marks.get(id);
    } catch (err) {
      unwatch();
      throw err;
    }
    return unwatch;
  }
}
