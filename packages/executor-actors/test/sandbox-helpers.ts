/** What the sandbox suites share: the fixture module, an ordinary (event-loop) job, waiting for a final state. */
import { isFinalStatus, type JobRecord } from '@oddjob/core';
import { waitFor } from './helpers.js';

/** The module every sandboxed queue in these tests loads in its threads. */
export const SANDBOX_MODULE = new URL('./fixtures/sandbox-jobs.js', import.meta.url);

/** A short asynchronous job that runs on the event loop beside the sandboxed ones. */
export class Ordinary {
  async tick(n: number): Promise<number> {
    await new Promise((r) => setTimeout(r, 2));
    return n;
  }
}

/** Waits (generously: the machine is shared) until the job is final, and returns its record. */
export async function finalRecord(
  store: { getJob(id: string): Promise<JobRecord | null> },
  id: string,
): Promise<JobRecord> {
  let record: JobRecord | null = null;
  await waitFor(
    async () => {
      record = await store.getJob(id);
      return record !== null && isFinalStatus(record.status);
    },
    `job ${id} to finish`,
    30_000,
  );
  return record!;
}
