// The memory store's enqueue: a batch checked whole (unknown parents refuse all of it), then stored,
// then placed. Apart from memory-store.ts because the two passes and the "answered in its place"
// rule are the one subtle part of an insert.
import { outsideParents } from '../checks/flow-checks.js';
import { UnknownParentError } from '../errors.js';
import type { NewJob } from '../job.js';
import { isFinalStatus } from '../status.js';
import type { FlowTable } from './flow-table.js';
import type { JobTable } from './job-table.js';
import type { StoredJob } from './stored-job.js';

/** Stores the batch; answers each job's id, or the id of the job answered in its place. */
export function insertBatch(jobs: readonly NewJob[], now: Date, table: JobTable, flow: FlowTable): string[] {
  const missing = outsideParents(jobs).filter((id) => table.get(id) === undefined);
  if (missing.length > 0) throw new UnknownParentError(missing);
  // Two passes: every job is stored before any is placed, so a child may name a parent that comes
  // later in the batch. A job not stored (its unique key is held, or 'skip' found its key busy) is
  // stood for by the job answered in its place, for its batch's children too.
  const answered = new Map<string, string>();
  const placed: StoredJob[] = [];
  const ids = jobs.map((job) => {
    const busy = job.concurrency?.alreadyRunning === 'skip' ? flow.unfinishedOf(job.concurrency.key) : undefined;
    const stored = busy?.id ?? table.insert(job, now);
    if (typeof stored === 'string') {
      answered.set(job.id, stored);
      return stored;
    }
    flow.track(stored);
    placed.push(stored);
    return job.id;
  });
  for (const stored of placed) {
    if (stored.after !== null && answered.size > 0) {
      stored.after = {
        rule: stored.after.rule,
        parents: stored.after.parents.map((p) => ({ job: answered.get(p.job) ?? p.job, when: p.when })),
      };
    }
    flow.place(stored, now);
    if (isFinalStatus(stored.status)) flow.ended(stored, now);
  }
  return ids;
}
