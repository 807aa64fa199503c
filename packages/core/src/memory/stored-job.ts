import type { JobError } from '../errors.js';
import type { JobMetadata, JobProgress, JobRecord, Lease, NewJob } from '../job.js';
import type { RetryPolicy } from '../retry.js';
import type { JobStatus } from '../status.js';
import type { JobAfter, JobConcurrency, ParentOutcome, SequenceTag, UniqueScope, WaitingFor } from '../flow.js';

/**
 * The memory store's own record of a job. A class rather than `{ ...newJob, status: 'new', ... }`:
 * built by that spread, nearly every job got a hidden class of its own (19,990 distinct ones among
 * 20,000 jobs on Node 20), so every field read and write on a job was a megamorphic lookup and the
 * maps themselves cost memory and GC; a claim cost ~15 us per job. With one class for all jobs the
 * claim's dozen field writes are plain stores (~2 us per job, claim and outcome together).
 */
export class StoredJob {
  id: string;
  queue: string;
  target: string;
  method: string;
  args: string;
  runAt: Date;
  retry: RetryPolicy;
  metadata: JobMetadata;
  uniqueKey: string | null;
  pinnedHost: string | null;
  uniqueScope: UniqueScope;
  priority: number;
  after: JobAfter | null;
  /** What each parent ended as, by parent id, recorded when it ended (see flow.ts). */
  parentOutcomes: Map<string, ParentOutcome> | null;
  waitingFor: WaitingFor | null = null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
  /** Whether the job holds a slot of its concurrency key (admitted and not final). */
  holdsSlot = false;
  /** Whether the job still holds its unique key (see UniqueScope). */
  holdsUniqueKey = false;
  status: JobStatus = 'new';
  attempts = 0;
  lastError: JobError | null = null;
  lease: Lease | null = null;
  progress: JobProgress | null = null;
  progressMessage: string | null = null;
  result: string | null = null;
  startedAt: Date | null = null;
  executorId: string | null = null;
  host: string | null = null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null = null;
  /** Bumped whenever the job enters the ready heap, so older heap entries are recognised as stale. */
  seq = 0;
  /** Insertion order: "creation" for the claim order, compared as a number (ids are long strings). */
  readonly order: number;

  constructor(job: NewJob, now: Date, order: number) {
    this.id = job.id;
    this.queue = job.queue;
    this.target = job.target;
    this.method = job.method;
    this.args = job.args;
    this.runAt = job.runAt ?? now;
    this.retry = job.retry;
    this.metadata = job.metadata;
    this.uniqueKey = job.uniqueKey;
    this.pinnedHost = job.pinnedHost;
    this.uniqueScope = job.uniqueScope;
    this.priority = job.priority;
    this.after = job.after;
    this.parentOutcomes = job.after === null ? null : new Map();
    this.concurrency = job.concurrency;
    this.sequence = job.sequence;
    this.createdAt = now;
    this.updatedAt = now;
    this.order = order;
  }
}

/**
 * A copy safe to hand out: callers may mutate what they get (its lease, error, metadata, progress
 * included) without touching the store. Written out field by field, in the order records have always
 * had: a rest spread (`{ seq, order, ...rest }`) goes through a generic runtime copy on every call.
 */
export function copy(job: StoredJob): JobRecord {
  const lease = job.lease;
  const error = job.lastError;
  const progress = job.progress;
  return {
    id: job.id,
    queue: job.queue,
    target: job.target,
    method: job.method,
    args: job.args,
    runAt: job.runAt,
    retry: job.retry,
    metadata: { ...job.metadata },
    uniqueKey: job.uniqueKey,
    pinnedHost: job.pinnedHost,
    uniqueScope: job.uniqueScope,
    priority: job.priority,
    after: job.after && { rule: job.after.rule, parents: job.after.parents.map((p) => ({ ...p })) },
    waitingFor: job.waitingFor,
    concurrency: job.concurrency && { ...job.concurrency },
    sequence: job.sequence && { ...job.sequence },
    status: job.status,
    attempts: job.attempts,
    lastError: error && { ...error },
    lease: lease && { owner: lease.owner, token: lease.token, expiresAt: lease.expiresAt },
    progress: progress === null || typeof progress === 'number' ? progress : structuredClone(progress),
    progressMessage: job.progressMessage,
    result: job.result,
    startedAt: job.startedAt,
    executorId: job.executorId,
    host: job.host,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}
