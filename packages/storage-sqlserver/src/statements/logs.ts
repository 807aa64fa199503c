import type { SchemaNames } from '../identifiers.js';
import { BIN2, LOG_COLUMNS, T, type BuiltStatement, type Param } from './common.js';
// ---------------------------------------------------------------------------------------------
// Job logs

/** One entry of an appendLogs statement: a lease and the lines (maybe none) it writes under it. */
export interface LogEntryRow {
  jobId: string;
  token: string;
  lines: readonly { at: Date; level: string; message: string }[];
}

export const LOG_ENTRY_PARAMS = 2;
export const LOG_LINE_PARAMS = 3;

/**
 * appendLogs — why: one multi-row INSERT ... SELECT fenced by a comma-style join on the lease (the
 * row must be `processing` under that token with an unexpired lease), so lines of a lease no longer
 * held are dropped by the same statement that writes the others: no read-then-write window. Each
 * line takes the row's current attempts as its attempt. OUTPUT inserted.job_id INTO a table variable
 * (INSERT's OUTPUT can name only the inserted row, which is all this needs) tells which entries
 * wrote: the caller sends at most one entry per job per statement. An entry without lines is
 * answered by a fenced SELECT in the same batch. Lines keep their order through ORDER BY on their
 * position (generated integers, spliced like placeholder names), which fixes the order identity
 * values are assigned in; every value is bound, and a line's job and token are its entry's own
 * @i/@t parameters, so a line costs three parameters.
 */
export function appendLogs(n: SchemaNames, entries: readonly LogEntryRow[]): BuiltStatement {
  const params: Param[] = [];
  const lineValues: string[] = [];
  const bare: string[] = [];
  entries.forEach((e, i) => {
    params.push({ name: `i${i}`, type: T.id, value: e.jobId }, { name: `t${i}`, type: T.token, value: e.token });
    if (e.lines.length === 0) bare.push(`(@i${i}, @t${i})`);
    for (const l of e.lines) {
      const m = lineValues.length;
      params.push(
        { name: `la${m}`, type: T.time, value: l.at },
        { name: `ll${m}`, type: T.level, value: l.level },
        { name: `lm${m}`, type: T.logMessage, value: l.message },
      );
      lineValues.push(`(@i${i}, @t${i}, ${m}, @la${m}, @ll${m}, @lm${m})`);
    }
  });
  const insert =
    lineValues.length === 0
      ? ''
      : `
INSERT INTO ${n.logs} (job_id, attempt, logged_at, level, message)
OUTPUT inserted.job_id INTO @wrote (id)
SELECT j.id, j.attempts, l.logged_at, l.level, l.message
FROM ${n.jobs} AS j, (VALUES ${lineValues.join(', ')}) AS l (id, token, ord, logged_at, level, message)
WHERE j.id = l.id AND j.status = 'processing' AND j.lease_token = l.token AND j.lease_expires_at > @now
ORDER BY l.ord;`;
  const held =
    bare.length === 0
      ? ''
      : `
INSERT INTO @wrote (id)
SELECT j.id FROM ${n.jobs} AS j, (VALUES ${bare.join(', ')}) AS e (id, token)
WHERE j.id = e.id AND j.status = 'processing' AND j.lease_token = e.token AND j.lease_expires_at > @now;`;
  return {
    name: 'appendLogs',
    usesNow: true,
    params,
    text: `
DECLARE @wrote TABLE (id char(36) ${BIN2} NOT NULL);${insert}${held}
SELECT DISTINCT id FROM @wrote;`,
  };
}

/** listLogs — why: a range seek on the (job_id, seq) key, in seq order, the attempt filtered only when asked for. */
export function listLogs(
  n: SchemaNames,
  jobId: string,
  f: { attempt?: number; afterSeq: number; limit: number },
): BuiltStatement {
  const params: Param[] = [
    { name: 'id', type: T.id, value: jobId },
    { name: 'after', type: T.seq, value: f.afterSeq },
    { name: 'limit', type: T.int, value: f.limit },
  ];
  if (f.attempt !== undefined) params.push({ name: 'attempt', type: T.int, value: f.attempt });
  return {
    name: 'listLogs',
    usesNow: false,
    params,
    text: `
SELECT TOP (@limit) ${LOG_COLUMNS.join(', ')} FROM ${n.logs}
WHERE job_id = @id AND seq > @after${f.attempt === undefined ? '' : ' AND attempt = @attempt'}
ORDER BY seq;`,
  };
}
