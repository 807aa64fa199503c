/**
 * Jobs that wait: for other jobs (dependencies), for a slot of their concurrency key, and the scope a
 * unique key is held for. The types every provider stores, and the one decision rule (`decideChild`)
 * every provider applies, so a child is released or decided the same way on every store.
 *
 * The rules, which the storage contract (testing/contract-flow*.ts) pins down on every provider:
 *
 * Dependencies
 * - A job added with `after` starts `waiting` (waitingFor 'parents') unless every parent is already
 *   final, in which case it is decided at once, in the insert.
 * - When a job becomes final (done, failed, cancelled: by an outcome, a cancel, or a claim failing a
 *   job whose last lease expired), every child waiting on it records that parent's final status, in
 *   the same transaction as the parent's own write. A child whose parents have all recorded a status
 *   is decided in that same transaction: released (to `new`, or `waiting` for a slot if it has a
 *   concurrency key without a free slot) if its rule holds, else `cancelled` with a DependencyError
 *   naming the parent that decided it. A cancelled child decides its own children in turn.
 * - A parent's status is recorded on the child when the parent becomes final, so purging a parent
 *   later changes nothing for a child still waiting on others; a requeued parent does not reopen
 *   what it already decided.
 * - Parents must exist when the child is added (stored, or earlier or later in the same batch);
 *   unknown parents and cycles within a batch are refused, and nothing of the batch is written.
 *
 * Concurrency keys (admission, not claim-time counting)
 * - A job with a concurrency key holds one of the key's slots from the moment it is admitted
 *   (status new, retry or processing) until it is final. A job waiting out a retry backoff keeps its
 *   slot, so jobs of a key of limit 1 run one after another, in order.
 * - A keyed job is admitted when it is added (or released by its parents) if the key's admitted
 *   jobs are fewer than its limit and no earlier job of the key is waiting for a slot; otherwise it
 *   is `waiting` (waitingFor 'slot'). When a keyed job becomes final, waiting jobs of its key are
 *   admitted in claim order (priority, runAt, id) while slots are free, in the same transaction.
 * - So the limit holds for every executor and process on one store without the claim counting
 *   anything: only admitted jobs are claimable, and a key with no free slot holds jobs nobody walks
 *   past. A job whose executor died keeps its slot until its lease expires and it runs again (or is
 *   failed, its attempts spent).
 * - alreadyRunning: 'queue' (default) as above; 'skip' adds nothing while a job of the key is not
 *   final (waiting, new, retry or processing) and answers that job's id; 'allow' admits at once,
 *   beyond the limit (the job still holds a slot, so 'queue' jobs wait for it too).
 *
 * Unique keys
 * - scope 'stored' (default, as before): the key is held until the job is purged.
 * - 'unfinished': held until the job is final; then a new job may take it.
 * - 'queued': held until the job's first claim (while it is waiting or new); a retry does not take it
 *   back. A requeued job does not take back a key it let go.
 *
 * Priority: an integer from -32768 to 32767, default 0; higher runs first. The claim orders by
 * priority (descending), then runAt, then id.
 */

/** What a dependency waits for its parent to end as. */
export type DependencyWhen =
  /** The parent ended `done`. */
  | 'succeeded'
  /** The parent ended `failed` (a cancelled parent does not count as failed). */
  | 'failed'
  /** The parent ended in any final status. */
  | 'finished';

export const DEPENDENCY_WHENS: readonly DependencyWhen[] = Object.freeze(['succeeded', 'failed', 'finished']);

/**
 * How a child's parents decide it.
 * - 'each': released when every parent ended as its dependency's `when` says.
 * - 'mixed': released when at least one parent ended `done` and at least one did not (each `when`
 *   is then ignored): JobFac's "mixed outcome" start rule.
 */
export type AfterRule = 'each' | 'mixed';

/** One parent of a stored job. */
export interface JobDependency {
  job: string;
  when: DependencyWhen;
}

/** A job's parents as stored. */
export interface JobAfter {
  rule: AfterRule;
  parents: readonly JobDependency[];
}

/** What a `waiting` job waits for. */
export type WaitingFor = 'parents' | 'slot';

/** What to do when a keyed job is added while another of its key is not final. */
export type AlreadyRunning = 'skip' | 'queue' | 'allow';

export const ALREADY_RUNNING_POLICIES: readonly AlreadyRunning[] = Object.freeze(['skip', 'queue', 'allow']);

/** A job's concurrency key as stored. */
export interface JobConcurrency {
  /** 1 to 512 characters. */
  key: string;
  /** At most this many jobs of the key are admitted at once: 1 (a mutex) to 10,000. */
  limit: number;
  alreadyRunning: AlreadyRunning;
}

/** How long a job holds its unique key. */
export type UniqueScope = 'queued' | 'unfinished' | 'stored';

export const UNIQUE_SCOPES: readonly UniqueScope[] = Object.freeze(['queued', 'unfinished', 'stored']);

/** The sequence run a job is a step of (see sequence/). */
export interface SequenceTag {
  /** The sequence definition's name. */
  name: string;
  /** The run's id (a UUID), shared by every step job of one run. */
  run: string;
  /** The step's name within the definition. */
  step: string;
}

export const MIN_PRIORITY = -32768;
export const MAX_PRIORITY = 32767;
export const MAX_CONCURRENCY_LIMIT = 10_000;
/** At most this many parents per job (a fan-in wider than this is better done in stages). */
export const MAX_PARENTS = 1000;

/** The name of the error a child decided by its parents carries as its lastError. */
export const DEPENDENCY_ERROR_NAME = 'DependencyError';

/** A parent's final status as a child records it. */
export type ParentOutcome = 'done' | 'failed' | 'cancelled';

/** What a child's parents decided: run it, or cancel it with this message. */
export type ChildDecision = { kind: 'release' } | { kind: 'cancel'; message: string };

/** Whether a parent that ended `status` meets a dependency's `when`. */
export function meets(when: DependencyWhen, status: ParentOutcome): boolean {
  switch (when) {
    case 'succeeded':
      return status === 'done';
    case 'failed':
      return status === 'failed';
    case 'finished':
      return true;
  }
}

/**
 * The decision for a child once every parent has ended; `outcomes[i]` is `after.parents[i]`'s final
 * status. The messages are part of the contract (SQL stores build the same text):
 * - 'each': `parent <id> ended <status>, not <when>` for the first parent (in `after` order) that
 *   does not meet its `when`;
 * - 'mixed': `every parent ended done, not a mixed outcome` or `no parent ended done, not a mixed
 *   outcome`.
 */
export function decideChild(after: JobAfter, outcomes: readonly ParentOutcome[]): ChildDecision {
  switch (after.rule) {
    case 'each': {
      for (let i = 0; i < after.parents.length; i++) {
        const p = after.parents[i];
        if (!meets(p.when, outcomes[i])) {
          return { kind: 'cancel', message: `parent ${p.job} ended ${outcomes[i]}, not ${p.when}` };
        }
      }
      return { kind: 'release' };
    }
    case 'mixed': {
      const done = outcomes.filter((o) => o === 'done').length;
      if (done === outcomes.length) return { kind: 'cancel', message: 'every parent ended done, not a mixed outcome' };
      if (done === 0) return { kind: 'cancel', message: 'no parent ended done, not a mixed outcome' };
      return { kind: 'release' };
    }
  }
}
