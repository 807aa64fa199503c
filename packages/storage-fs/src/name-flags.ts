/**
 * Layout 4: the flags a job's name carries for jobs that wait (see flow.ts in core). They are kept
 * in the name, like `h`, so that the hot paths (a claim's order, a done's rename) learn from the
 * listing alone whether a job needs more than its rename: a plain job's name is what it was in
 * layout 3, and it is claimed and completed exactly as before.
 *
 * Appended to the flags field of every name, in this order:
 * - `k`          the job has a concurrency key (the key is in the content): its end admits the next
 * - `q` | `f`    the job still holds its unique key of scope 'queued' | 'unfinished' (dropped when
 *                the key is let go, so the name says whether the key file still stands for it)
 * - `P<n>`       priority n (omitted for 0), ordered before runAt by the claim
 * - `D<i><o>`    (final names only) cancelled by its parents: parent i (of the content's `after`)
 *                ended o (d done, f failed, c cancelled), against its `when`; `Da` / `Dn`: a
 *                'mixed' rule whose parents all / none ended done. The message is built from it.
 */
import type { ParentOutcome } from '@oddjob/core';

export interface FlowFlags {
  priority: number;
  keyed: boolean;
  holds: 'queued' | 'unfinished' | null;
}

/** What decided a child its parents cancelled (see DEPENDENCY_ERROR_NAME in core). */
export type Decided = { kind: 'each'; index: number; outcome: ParentOutcome } | { kind: 'mixed'; allDone: boolean };

export const NO_FLOW: Readonly<FlowFlags> = Object.freeze({ priority: 0, keyed: false, holds: null });

const OUTCOME_CODE: Record<ParentOutcome, string> = { done: 'd', failed: 'f', cancelled: 'c' };
const CODE_OUTCOME: Record<string, ParentOutcome> = { d: 'done', f: 'failed', c: 'cancelled' };

/** The flow part of a flags field. */
export function formatFlow(f: FlowFlags, decided: Decided | null = null): string {
  let s = (f.keyed ? 'k' : '') + (f.holds === 'queued' ? 'q' : f.holds === 'unfinished' ? 'f' : '');
  if (f.priority !== 0) s += `P${f.priority}`;
  if (decided !== null)
    s += decided.kind === 'each' ? `D${decided.index}${OUTCOME_CODE[decided.outcome]}` : decided.allDone ? 'Da' : 'Dn';
  return s;
}

/** The regular-expression source of the flow part (its groups: k, q|f, priority, index, outcome, a|n). */
export const FLOW_PATTERN = '(k?)([qf]?)(?:P(-?\\d{1,5}))?';
export const DECIDED_PATTERN = '(?:D(\\d{1,4})([dfc])|D([an]))?';

/** Parses the groups FLOW_PATTERN matched (from `at`), or null if the priority is out of range. */
export function parseFlow(m: RegExpExecArray, at: number): FlowFlags | null {
  const priority = m[at + 2] === undefined ? 0 : Number(m[at + 2]);
  if (!Number.isInteger(priority) || priority < -32768 || priority > 32767) return null;
  if (m[at + 2] !== undefined && (priority === 0 || String(priority) !== m[at + 2])) return null;
  return {
    keyed: m[at] === 'k',
    holds: m[at + 1] === 'q' ? 'queued' : m[at + 1] === 'f' ? 'unfinished' : null,
    priority,
  };
}

/** Parses the groups DECIDED_PATTERN matched (from `at`). */
export function parseDecided(m: RegExpExecArray, at: number): Decided | null {
  if (m[at] !== undefined) return { kind: 'each', index: Number(m[at]), outcome: CODE_OUTCOME[m[at + 1]] };
  if (m[at + 2] !== undefined) return { kind: 'mixed', allDone: m[at + 2] === 'a' };
  return null;
}
