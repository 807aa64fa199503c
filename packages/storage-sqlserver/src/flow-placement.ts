/**
 * Where each job of a batch starts (core's flow.ts), decided in TypeScript from what the writer read
 * under the batch's locks (statements/flow-insert.ts). Pure, so every rule is tested without a server:
 * - first, in batch order, which jobs are written: 'skip' adds nothing while a job of its key is
 *   unfinished (stored, or written earlier in the batch) and answers that job; a job whose unique
 *   key a stored job holds is not written and answers the holder;
 * - a child whose parents are all final already (stored final, or cancelled here by its own parents)
 *   is decided by core's decideChild in the insert; otherwise it waits for its parents;
 * - per key, in batch order: 'allow' is admitted at once; others while the key has fewer admitted
 *   jobs than its limit and none waits for a slot, else they wait for one.
 * A parent that is not written (held key, 'skip') is replaced by the job it answers, so the child
 * waits for the job that actually runs. The passes follow core's memory store (memory/insert-batch.ts),
 * the reference: what is written is settled before anything is placed.
 */
import {
  decideChild,
  DEPENDENCY_ERROR_NAME,
  isFinalStatus,
  UnknownParentError,
  type JobAfter,
  type JobStatus,
  type NewJob,
  type ParentOutcome,
} from '@oddjob/core';
import type { Placement } from './row-mapping.js';
import type { DependencyRowInput } from './statements.js';
import { keyIdentity } from './unique-key.js';

/** What the writer read before placing the batch. Keys are keyed by keyIdentity. */
export interface BatchState {
  /** Stored jobs the batch names (parents, unique-key holders), by id, with their status. */
  stored: ReadonlyMap<string, JobStatus>;
  /** Per concurrency key: admitted jobs, whether one waits for a slot, the oldest unfinished job. */
  keys: ReadonlyMap<string, { admitted: number; queued: boolean; unfinished: string | null }>;
  /** Per unique key (held by a stored job): the holder's id. */
  holders: ReadonlyMap<string, string>;
}

/** One job of the batch: written in `placement` with `after` (parents possibly replaced), or answered by another id. */
export type Placed =
  | { kind: 'write'; job: NewJob; placement: Placement; dependencies: DependencyRowInput[] }
  | { kind: 'answer'; job: NewJob; answer: string };

/** The stored parents a batch names (outside the batch): read and locked before placing it. */
export function storedParents(jobs: readonly NewJob[]): string[] {
  const inBatch = new Set(jobs.map((j) => j.id));
  const out = new Set<string>();
  for (const j of jobs) for (const p of j.after?.parents ?? []) if (!inBatch.has(p.job)) out.add(p.job);
  return [...out];
}

const dependencyError = (message: string) => JSON.stringify({ name: DEPENDENCY_ERROR_NAME, message });

/**
 * Places a batch whose in-batch duplicate unique keys the writer already folded (`jobs` are the
 * ones to write, in batch order). Throws UnknownParentError, naming every missing id, if a parent is
 * neither in the batch nor stored.
 */
export function placeBatch(jobs: readonly NewJob[], state: BatchState): Placed[] {
  const missing = storedParents(jobs).filter((id) => !state.stored.has(id));
  if (missing.length > 0) throw new UnknownParentError(missing);

  // 1. Which jobs are written: 'skip' on a busy key, then held unique keys, answer another job.
  const keys = new Map([...state.keys].map(([k, v]) => [k, { ...v }]));
  const keyOf = (key: string) => {
    let k = keys.get(keyIdentity(key));
    if (k === undefined) keys.set(keyIdentity(key), (k = { admitted: 0, queued: false, unfinished: null }));
    return k;
  };
  const answer = new Map<string, string>();
  for (const job of jobs) {
    const c = job.concurrency;
    const busy = c !== null && c.alreadyRunning === 'skip' ? keyOf(c.key).unfinished : null;
    const holder = job.uniqueKey === null ? undefined : state.holders.get(keyIdentity(job.uniqueKey));
    if (busy !== null) answer.set(job.id, busy);
    else if (holder !== undefined) answer.set(job.id, holder);
    else if (c !== null) keyOf(c.key).unfinished ??= job.id;
  }
  const written = jobs.filter((j) => !answer.has(j.id));
  const resolve = (id: string): string => answer.get(id) ?? id;

  // 2. Parents: decided at once when all are final; cancelled batch jobs count as final (a fixpoint,
  // since a batch parent may come later in the batch; core refuses cycles, so it ends).
  const batchOutcome = new Map<string, ParentOutcome>();
  const decided = new Map<string, Placement | 'released'>();
  const outcomeOf = (parent: string): ParentOutcome | null => {
    const id = resolve(parent);
    const stored = state.stored.get(id);
    if (stored !== undefined && isFinalStatus(stored)) return stored;
    return batchOutcome.get(id) ?? null;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const job of written) {
      if (job.after === null || decided.has(job.id)) continue;
      const outcomes = job.after.parents.map((p) => outcomeOf(p.job));
      if (outcomes.some((o) => o === null)) continue;
      const decision = decideChild(job.after, outcomes as ParentOutcome[]);
      changed = true;
      if (decision.kind === 'release') {
        decided.set(job.id, 'released');
      } else {
        decided.set(job.id, { status: 'cancelled', waitingFor: null, lastError: dependencyError(decision.message) });
        batchOutcome.set(job.id, 'cancelled');
      }
    }
  }

  // 3. Keys, in batch order.
  const placements = new Map<string, Placement>();
  for (const job of written) {
    const d = decided.get(job.id);
    if (d !== undefined && d !== 'released') {
      placements.set(job.id, d);
      continue;
    }
    const waitsForParents = job.after !== null && d === undefined;
    const c = job.concurrency;
    if (c === null) {
      placements.set(job.id, waitsForParents ? waiting('parents') : NEW);
      continue;
    }
    const k = keyOf(c.key);
    if (waitsForParents) placements.set(job.id, waiting('parents'));
    else if (c.alreadyRunning === 'allow' || (k.admitted < c.limit && !k.queued)) {
      k.admitted++;
      placements.set(job.id, NEW);
    } else {
      k.queued = true;
      placements.set(job.id, waiting('slot'));
    }
  }

  // 4. Dependency rows, with parents that are not written replaced by the job they answer.
  return jobs.map((job): Placed => {
    const placement = placements.get(job.id);
    if (placement === undefined) return { kind: 'answer', job, answer: resolveChain(answer, job.id) };
    if (job.after === null) return { kind: 'write', job, placement, dependencies: [] };
    const after: JobAfter = {
      rule: job.after.rule,
      parents: job.after.parents.map((p) => ({ job: resolveChain(answer, p.job), when: p.when })),
    };
    const dependencies = after.parents.map((p, ord) => ({
      child: job.id,
      ord,
      parent: p.job,
      awaited: p.when,
      outcome: outcomeOf(p.job),
    }));
    return { kind: 'write', job: { ...job, after }, placement, dependencies };
  });
}

const NEW: Placement = { status: 'new', waitingFor: null, lastError: null };
const waiting = (waitingFor: 'parents' | 'slot'): Placement => ({ status: 'waiting', waitingFor, lastError: null });

/** Follows answers (a skipped job answers one that may itself have been answered) to a written or stored id. */
function resolveChain(answer: ReadonlyMap<string, string>, id: string): string {
  let at = id;
  for (let hops = 0; hops <= answer.size && answer.has(at); hops++) at = answer.get(at)!;
  return at;
}
