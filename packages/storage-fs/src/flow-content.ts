/**
 * The format 4 fields of a job file (jobs that wait: see core's flow.ts), read with the defaults an
 * older file stands for (scope 'stored', priority 0, no parents, no key, no sequence), and the text
 * of a dependency decision, rebuilt from the name's `D` flag through core's own decideChild.
 */
import {
  decideChild,
  UNIQUE_SCOPES,
  type DependencyWhen,
  type JobAfter,
  type JobConcurrency,
  type ParentOutcome,
  type SequenceTag,
  type UniqueScope,
} from '@oddjob/core';
import { UnreadableFileError } from './errors.js';
import type { Decided } from './name-flags.js';

export interface FlowFields {
  uniqueScope: UniqueScope;
  priority: number;
  after: JobAfter | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function decodeFlowFields(raw: Record<string, unknown>): FlowFields {
  const scope = raw.uniqueScope ?? 'stored';
  if (!UNIQUE_SCOPES.includes(scope as UniqueScope))
    throw new UnreadableFileError('field "uniqueScope" is not a scope');
  const priority = raw.priority ?? 0;
  if (!Number.isInteger(priority)) throw new UnreadableFileError('field "priority" is not an integer');
  const after = raw.after ?? null;
  if (after !== null && !(isObject(after) && Array.isArray(after.parents) && typeof after.rule === 'string'))
    throw new UnreadableFileError('field "after" is not a list of parents');
  const concurrency = raw.concurrency ?? null;
  if (concurrency !== null && !(isObject(concurrency) && typeof concurrency.key === 'string'))
    throw new UnreadableFileError('field "concurrency" is not a concurrency key');
  const sequence = raw.sequence ?? null;
  if (sequence !== null && !(isObject(sequence) && typeof sequence.run === 'string'))
    throw new UnreadableFileError('field "sequence" is not a sequence tag');
  return {
    uniqueScope: scope as UniqueScope,
    priority: priority as number,
    after: after as JobAfter | null,
    concurrency: concurrency as JobConcurrency | null,
    sequence: sequence as SequenceTag | null,
  };
}

/** A parent outcome that meets `when` (stands in for the parents before the one that decided). */
function meeting(when: DependencyWhen): ParentOutcome {
  return when === 'failed' ? 'failed' : 'done';
}

/** What decided a child, in the name's terms; null when the decision is a release. */
export function decidedOf(after: JobAfter, outcomes: readonly ParentOutcome[]): Decided | null {
  const d = decideChild(after, outcomes);
  if (d.kind === 'release') return null;
  if (after.rule === 'mixed') return { kind: 'mixed', allDone: outcomes.every((o) => o === 'done') };
  for (let i = 0; i < outcomes.length; i++) {
    if (decideChild({ rule: 'each', parents: [after.parents[i]] }, [outcomes[i]]).kind === 'cancel')
      return { kind: 'each', index: i, outcome: outcomes[i] };
  }
  return { kind: 'each', index: 0, outcome: outcomes[0] }; // unreachable: decideChild found one
}

/** The DependencyError message of a child its parents cancelled: core's own text, rebuilt. */
export function decidedMessage(after: JobAfter, decided: Decided): string {
  const outcomes: ParentOutcome[] = after.parents.map((p, i) => {
    if (decided.kind === 'mixed') return decided.allDone ? 'done' : 'failed';
    return i === decided.index ? decided.outcome : meeting(p.when);
  });
  const d = decideChild(after, outcomes);
  return d.kind === 'cancel' ? d.message : 'cancelled by its parents';
}
