// The memory store's waiting jobs: children waiting on parents, and jobs waiting for a slot of their
// concurrency key. Kept apart from memory-store.ts because it is the one place the rules of flow.ts
// are applied (placing a new job, a job becoming final, admitting the next of a key), and the store
// only calls it at those three moments. Every method runs synchronously, so each of them is atomic
// with the store write that called it, as a transaction is on the SQL stores.
import { DEPENDENCY_ERROR_NAME, decideChild, type ParentOutcome } from '../flow.js';
import { isFinalStatus } from '../status.js';
import type { JobTable } from './job-table.js';
import type { ReadyJobs } from './ready-jobs.js';
import type { StoredJob } from './stored-job.js';

/** One concurrency key: its unfinished jobs (for 'skip'), how many hold a slot, who waits for one. */
interface KeyState {
  unfinished: Set<StoredJob>;
  held: number;
  /** In admission order: priority (descending), runAt, creation. */
  waiting: StoredJob[];
}

/** Admission order: the claim's order (priority first, then runAt, then creation). */
function admitsBefore(a: StoredJob, b: StoredJob): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  const d = a.runAt.getTime() - b.runAt.getTime();
  return d !== 0 ? d < 0 : a.order < b.order;
}

export class FlowTable {
  /** Parent id -> children waiting on it whose outcome for that parent is not recorded yet. */
  private readonly children = new Map<string, Set<StoredJob>>();
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly jobs: JobTable,
    private readonly ready: ReadyJobs,
    /** Told when a job became claimable (its queue) and when one became final (its id). */
    private readonly events: { claimable(queue: string): void; final(id: string): void },
  ) {}

  /** An unfinished job of the key (the oldest), for alreadyRunning 'skip'; undefined if none. */
  unfinishedOf(key: string): StoredJob | undefined {
    let oldest: StoredJob | undefined;
    for (const j of this.keys.get(key)?.unfinished ?? [])
      if (oldest === undefined || j.order < oldest.order) oldest = j;
    return oldest;
  }

  /** Counts a just-inserted keyed job as unfinished, before it is placed (so a batch's 'skip' sees it). */
  track(job: StoredJob): void {
    if (job.concurrency !== null) this.key(job.concurrency.key).unfinished.add(job);
  }

  /**
   * Puts a just-inserted (and tracked) job in its first state: waiting on its parents, decided at
   * once if they are all final, or admitted. `now` stamps a decision.
   */
  place(job: StoredJob, now: Date): void {
    if (job.after === null) return this.admit(job);
    job.status = 'waiting';
    job.waitingFor = 'parents';
    for (const p of job.after.parents) {
      const parent = this.jobs.get(p.job)!; // checked by the store before anything was written
      if (isFinalStatus(parent.status)) job.parentOutcomes!.set(p.job, parent.status);
      else {
        let set = this.children.get(p.job);
        if (!set) this.children.set(p.job, (set = new Set()));
        set.add(job);
      }
    }
    if (job.parentOutcomes!.size === job.after.parents.length) this.decide(job, now);
  }

  /** A final job back to claimable (requeue): through admission, so its key's limit still holds. */
  reopen(job: StoredJob): void {
    this.track(job);
    this.admit(job);
  }

  /**
   * `job` has just become final (its status is written): free its slot and admit the next of its
   * key, free a key held 'unfinished', record its outcome on its waiting children and decide those
   * whose parents have all ended — and so on down the chain for children it cancels.
   */
  ended(job: StoredJob, now: Date): void {
    const work = [job];
    for (let j = work.pop(); j !== undefined; j = work.pop()) {
      this.events.final(j.id);
      if (j.uniqueScope === 'unfinished') this.jobs.releaseUniqueKey(j);
      if (j.concurrency !== null) this.leaveKey(j);
      const kids = this.children.get(j.id);
      if (kids === undefined) continue;
      this.children.delete(j.id);
      for (const kid of kids) {
        if (kid.status !== 'waiting' || kid.waitingFor !== 'parents') continue; // cancelled meanwhile
        kid.parentOutcomes!.set(j.id, j.status as ParentOutcome);
        if (kid.parentOutcomes!.size === kid.after!.parents.length && this.decide(kid, now) === 'cancelled') {
          work.push(kid);
        }
      }
    }
  }

  /** Releases or cancels a child whose parents have all ended; answers what it did. */
  private decide(job: StoredJob, now: Date): 'released' | 'cancelled' {
    const after = job.after!;
    const decision = decideChild(
      after,
      after.parents.map((p) => job.parentOutcomes!.get(p.job)!),
    );
    switch (decision.kind) {
      case 'release':
        this.admit(job);
        return 'released';
      case 'cancel':
        job.status = 'cancelled';
        job.waitingFor = null;
        job.lastError = { name: DEPENDENCY_ERROR_NAME, message: decision.message };
        job.finishedAt = now;
        job.updatedAt = now;
        return 'cancelled';
    }
  }

  /** Makes the job claimable if its key has room (or it has none); else it waits for a slot. */
  private admit(job: StoredJob): void {
    const c = job.concurrency;
    if (c !== null) {
      const k = this.key(c.key);
      if (c.alreadyRunning !== 'allow' && (k.held >= c.limit || k.waiting.length > 0)) {
        job.status = 'waiting';
        job.waitingFor = 'slot';
        let i = k.waiting.length;
        while (i > 0 && admitsBefore(job, k.waiting[i - 1])) i--;
        k.waiting.splice(i, 0, job);
        return;
      }
      k.held++;
      job.holdsSlot = true;
    }
    if (job.status === 'waiting') job.status = 'new';
    job.waitingFor = null;
    this.ready.add(job);
    this.events.claimable(job.queue);
  }

  /** A final keyed job leaves its key: its slot (if it held one) goes to the next waiting job. */
  private leaveKey(job: StoredJob): void {
    const k = this.key(job.concurrency!.key);
    k.unfinished.delete(job);
    const at = k.waiting.indexOf(job);
    if (at >= 0) k.waiting.splice(at, 1); // cancelled while waiting for a slot
    if (job.holdsSlot) {
      job.holdsSlot = false;
      k.held--;
    }
    while (k.waiting.length > 0 && k.held < k.waiting[0].concurrency!.limit) {
      const next = k.waiting.shift()!;
      k.held++;
      next.holdsSlot = true;
      next.status = 'new';
      next.waitingFor = null;
      this.ready.add(next);
      this.events.claimable(next.queue);
    }
    if (k.unfinished.size === 0 && k.waiting.length === 0 && k.held === 0) this.keys.delete(job.concurrency!.key);
  }

  private key(key: string): KeyState {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { unfinished: new Set(), held: 0, waiting: [] }));
    return k;
  }
}
