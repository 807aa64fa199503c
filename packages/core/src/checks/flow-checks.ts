import { InvalidOptionError } from '../errors.js';
import {
  ALREADY_RUNNING_POLICIES,
  DEPENDENCY_WHENS,
  MAX_CONCURRENCY_LIMIT,
  MAX_PARENTS,
  MAX_PRIORITY,
  MIN_PRIORITY,
  UNIQUE_SCOPES,
  type JobAfter,
  type JobConcurrency,
  type JobDependency,
  type SequenceTag,
  type UniqueScope,
} from '../flow.js';
import type { JobOptions, NewJob } from '../job.js';
import { NAME_PATTERN } from '../patterns.js';

/** The job options of flow.ts, checked; `after` may still hold batch indexes (see resolveBatchParents). */
export interface CheckedFlowOptions {
  uniqueScope: UniqueScope;
  priority: number;
  after: { rule: JobAfter['rule']; parents: { job: string | number; when: JobDependency['when'] }[] } | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks uniqueScope, priority, after/afterRule, concurrency* and sequence, naming the bad option. */
export function checkFlowOptions(options: JobOptions, hasUniqueKey: boolean): CheckedFlowOptions {
  const uniqueScope = options.uniqueScope ?? 'stored';
  if (!UNIQUE_SCOPES.includes(uniqueScope)) {
    throw new InvalidOptionError('uniqueScope', `must be one of ${UNIQUE_SCOPES.join(', ')}`);
  }
  if (options.uniqueScope !== undefined && !hasUniqueKey) {
    throw new InvalidOptionError('uniqueScope', 'only applies with a uniqueKey');
  }
  const priority = options.priority ?? 0;
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new InvalidOptionError('priority', `must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}`);
  }
  return {
    uniqueScope,
    priority,
    after: checkAfter(options),
    concurrency: checkConcurrency(options),
    sequence: checkSequence(options.sequence),
  };
}

function checkAfter(options: JobOptions): CheckedFlowOptions['after'] {
  const rule = options.afterRule ?? 'each';
  if (rule !== 'each' && rule !== 'mixed') throw new InvalidOptionError('afterRule', "must be 'each' or 'mixed'");
  if (options.after === undefined) {
    if (options.afterRule !== undefined) throw new InvalidOptionError('afterRule', 'only applies with after');
    return null;
  }
  if (!Array.isArray(options.after)) throw new InvalidOptionError('after', 'must be an array of parents');
  if (options.after.length === 0) throw new InvalidOptionError('after', 'must name at least one parent');
  if (options.after.length > MAX_PARENTS) throw new InvalidOptionError('after', `at most ${MAX_PARENTS} parents`);
  const parents = options.after.map((entry: unknown, i) => {
    const { job, when } =
      typeof entry === 'object' && entry !== null
        ? (entry as { job?: unknown; when?: unknown })
        : { job: entry, when: undefined };
    const at = `after[${i}]`;
    if (typeof job === 'string') {
      if (!UUID.test(job)) throw new InvalidOptionError(at, `"${job}" is not a job id (a lowercase UUID)`);
    } else if (typeof job !== 'number' || !Number.isInteger(job) || job < 0) {
      throw new InvalidOptionError(at, 'must be a job id, a batch index, or { job, when }');
    }
    const w = when ?? 'succeeded';
    if (!DEPENDENCY_WHENS.includes(w as JobDependency['when'])) {
      throw new InvalidOptionError(`${at}.when`, `must be one of ${DEPENDENCY_WHENS.join(', ')}`);
    }
    return { job, when: w as JobDependency['when'] };
  });
  const seen = new Set<string | number>();
  for (const p of parents) {
    if (seen.has(p.job)) throw new InvalidOptionError('after', `parent ${String(p.job)} is named twice`);
    seen.add(p.job);
  }
  if (rule === 'mixed' && parents.length < 2) {
    throw new InvalidOptionError('afterRule', "'mixed' needs at least two parents");
  }
  return { rule, parents };
}

function checkConcurrency(options: JobOptions): JobConcurrency | null {
  const { concurrencyKey: key, concurrencyLimit, alreadyRunning } = options;
  if (key === undefined) {
    if (concurrencyLimit !== undefined)
      throw new InvalidOptionError('concurrencyLimit', 'only applies with concurrencyKey');
    if (alreadyRunning !== undefined)
      throw new InvalidOptionError('alreadyRunning', 'only applies with concurrencyKey');
    return null;
  }
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new InvalidOptionError('concurrencyKey', 'must be a string of 1 to 512 characters');
  }
  const limit = concurrencyLimit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CONCURRENCY_LIMIT) {
    throw new InvalidOptionError('concurrencyLimit', `must be an integer from 1 to ${MAX_CONCURRENCY_LIMIT}`);
  }
  const policy = alreadyRunning ?? 'queue';
  if (!ALREADY_RUNNING_POLICIES.includes(policy)) {
    throw new InvalidOptionError('alreadyRunning', `must be one of ${ALREADY_RUNNING_POLICIES.join(', ')}`);
  }
  return { key, limit, alreadyRunning: policy };
}

function checkSequence(tag: SequenceTag | undefined): SequenceTag | null {
  if (tag === undefined) return null;
  if (tag === null || typeof tag !== 'object') throw new InvalidOptionError('sequence', 'must be { name, run, step }');
  const { name, run, step } = tag;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidOptionError('sequence.name', `must match ${NAME_PATTERN}`);
  }
  if (typeof run !== 'string' || !UUID.test(run))
    throw new InvalidOptionError('sequence.run', 'must be a lowercase UUID');
  if (typeof step !== 'string' || !NAME_PATTERN.test(step)) {
    throw new InvalidOptionError('sequence.step', `must match ${NAME_PATTERN}`);
  }
  return { name, run, step };
}

/**
 * Turns batch indexes in `after` into the ids of those batch jobs and refuses cycles within the
 * batch (a job that waits, through any chain, on itself could never run). `pending[i]` is job i's
 * checked `after`; answers each job's stored `after`. Errors name the job by its batch index.
 */
export function resolveBatchParents(
  ids: readonly string[],
  pending: readonly CheckedFlowOptions['after'][],
): (JobAfter | null)[] {
  const index = new Map(ids.map((id, i) => [id, i]));
  const edges: number[][] = ids.map(() => []);
  const resolved = pending.map((after, i): JobAfter | null => {
    if (after === null) return null;
    const parents = after.parents.map(({ job, when }) => {
      if (typeof job === 'number') {
        if (job >= ids.length) {
          throw new InvalidOptionError(`job ${i} of the batch: after`, `batch index ${job} is past the batch's end`);
        }
        if (job === i) throw new InvalidOptionError(`job ${i} of the batch: after`, 'a job cannot wait for itself');
        edges[i].push(job);
        return { job: ids[job], when };
      }
      const j = index.get(job);
      if (j !== undefined) edges[i].push(j);
      return { job, when };
    });
    const named = new Set(parents.map((p) => p.job));
    if (named.size !== parents.length) {
      throw new InvalidOptionError(`job ${i} of the batch: after`, 'names one parent twice (by id and by index)');
    }
    return { rule: after.rule, parents };
  });
  const cycle = findCycle(edges);
  if (cycle !== null) {
    throw new InvalidOptionError('after', `the batch's jobs ${cycle.join(' → ')} wait for each other in a cycle`);
  }
  return resolved;
}

/** A cycle in the graph (as batch indexes, first repeated at the end), or null. Iterative DFS. */
function findCycle(edges: readonly number[][]): number[] | null {
  const state = new Uint8Array(edges.length); // 0 unvisited, 1 on the stack, 2 done
  for (let root = 0; root < edges.length; root++) {
    if (state[root] !== 0) continue;
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < edges[top.node].length) {
        const to = edges[top.node][top.next++];
        if (state[to] === 1) {
          const path = stack.map((f) => f.node);
          return [...path.slice(path.indexOf(to)), to];
        }
        if (state[to] === 0) {
          state[to] = 1;
          stack.push({ node: to, next: 0 });
        }
      } else {
        state[top.node] = 2;
        stack.pop();
      }
    }
  }
  return null;
}

/** The parents of `jobs` that are not in the batch itself: those a store must find stored. */
export function outsideParents(jobs: readonly NewJob[]): string[] {
  const inBatch = new Set(jobs.map((j) => j.id));
  const out = new Set<string>();
  for (const j of jobs) for (const p of j.after?.parents ?? []) if (!inBatch.has(p.job)) out.add(p.job);
  return [...out];
}
