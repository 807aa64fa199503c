/** Text helpers the builders share; not part of the statement modules' public surface. */
import type { Param } from './common.js';

export const cols = (prefix: string, list: readonly string[]) => list.map((c) => `${prefix}${c}`).join(', ');

/** `@p0, @p1, ...` placeholders and their params for a list of values of one type. */
export function list(
  prefix: string,
  type: Param['type'],
  values: readonly unknown[],
): { text: string; params: Param[] } {
  const params = values.map((value, i) => ({ name: `${prefix}${i}`, type, value }));
  return { text: params.map((p) => `@${p.name}`).join(', '), params };
}

// Run records: the pieces every statement that ends an attempt shares.

/** The columns a run record is inserted with (seq is the identity). */
export const RUN_INSERT_COLUMNS =
  'job_id, attempt, executor_id, host, state, started_at, finished_at, error, progress, progress_message';

/**
 * A run's attempt number from the attempts count it was claimed with: at least 1, as core's runOf
 * says (a row claimed once has attempts >= 1; the floor only mirrors core).
 */
export function runAttempt(attempts: string): string {
  return `CASE WHEN ${attempts} > 1 THEN ${attempts} ELSE 1 END`;
}

/** The job row `j` holds an attempt to record (core's endedRun returns null otherwise). */
export const HAS_RUN = 'j.started_at IS NOT NULL AND j.executor_id IS NOT NULL';
