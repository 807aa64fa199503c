import { JobArgumentError, type NewJob } from '@oddjob/core';
import { jsonText } from './rows.js';
import { isUuid } from './uuid.js';

/** The parameters of sql/insert-jobs.ts for one batch; read that statement's comment first. */
export interface InsertParams {
  /** JSON array of the distinct shapes, numbered from 1. */
  shapes: string;
  /** Ids joined by commas. */
  ids: string;
  /** Serialized arguments joined by U+001E. */
  args: string;
  /** Each job's shape number joined by commas; null when the batch has a single shape. */
  shapeOfJob: string | null;
  /** Each job's run time as epoch ms ('' for now) joined by commas; null when every job runs now. */
  runAt: string | null;
  /** JSON array of each job's unique key (or null); null when no job has one. */
  uniqueKeys: string | null;
  /** JSON array of each job's flow options (see sql/insert-jobs.ts) or null; null when no job has any. */
  flow: string | null;
}

const ARGS_SEPARATOR = '\u001e';

/**
 * Splits a batch into what repeats (shapes) and what differs per job. Checks what the joined
 * texts rely on: an id that is not a UUID, or arguments holding the separator, would shift every
 * later job of the batch onto the wrong values, so they are refused here, naming the job.
 */
export function insertParams(jobs: readonly NewJob[]): InsertParams {
  const name = (i: number, what: string) => (jobs.length > 1 ? `job ${i} ${what}` : what);
  const shapeNumbers = new Map<string, number>();
  const shapes: string[] = [];
  const shapeOfJob: number[] = [];
  const ids: string[] = [];
  const args: string[] = [];
  const runAt: string[] = [];
  const uniqueKeys: (string | null)[] = [];
  let anyRunAt = false;
  let anyKey = false;
  const flow: string[] = [];
  let anyFlow = false;
  jobs.forEach((j, i) => {
    if (!isUuid(j.id)) throw new JobArgumentError(name(i, 'id'), `must be a UUID, got ${JSON.stringify(j.id)}`);
    if (typeof j.args !== 'string' || j.args.includes(ARGS_SEPARATOR)) {
      throw new JobArgumentError(name(i, 'args'), 'must be serialized arguments (JSON text, as serializeArgs makes)');
    }
    let metadata: string;
    try {
      metadata = jsonText(j.metadata, 'metadata');
    } catch (err) {
      throw new JobArgumentError(name(i, 'metadata'), (err as Error).message);
    }
    const retry = JSON.stringify(j.retry);
    // JSON of an array of the shape's fields: a key no two different shapes can share.
    // The pin is part of the shape: a batch pinned to one host (the usual case) is still one shape.
    const pin = j.pinnedHost ?? null;
    const priority = j.priority ?? 0;
    const scope = j.uniqueScope ?? 'stored';
    const key = JSON.stringify([j.queue, j.target, j.method, retry, metadata, pin, priority, scope]);
    let n = shapeNumbers.get(key);
    if (n === undefined) {
      n = shapes.length + 1;
      shapeNumbers.set(key, n);
      shapes.push(
        `{"n":${n},"queue":${JSON.stringify(j.queue)},"target":${JSON.stringify(j.target)},"method":${JSON.stringify(j.method)},` +
          `"max_attempts":${JSON.stringify(j.retry.maxAttempts)},"retry":${retry},"metadata":${metadata},"pinned_host":${JSON.stringify(pin)},` +
          `"priority":${JSON.stringify(priority)},"unique_scope":${JSON.stringify(scope)}}`,
      );
    }
    shapeOfJob.push(n);
    ids.push(j.id);
    args.push(j.args);
    if (j.runAt === null) runAt.push('');
    else {
      if (!(j.runAt instanceof Date) || Number.isNaN(j.runAt.getTime()))
        throw new JobArgumentError(name(i, 'runAt'), 'must be a valid Date or null');
      runAt.push(String(j.runAt.getTime()));
      anyRunAt = true;
    }
    uniqueKeys.push(j.uniqueKey);
    if (j.uniqueKey !== null) anyKey = true;
    const f = flowOf(j);
    flow.push(f);
    if (f !== 'null') anyFlow = true;
  });
  return {
    shapes: `[${shapes.join(',')}]`,
    ids: ids.join(','),
    args: args.join(ARGS_SEPARATOR),
    shapeOfJob: shapes.length === 1 ? null : shapeOfJob.join(','),
    runAt: anyRunAt ? runAt.join(',') : null,
    uniqueKeys: anyKey ? JSON.stringify(uniqueKeys) : null,
    flow: anyFlow ? `[${flow.join(',')}]` : null,
  };
}

/** A job's flow options as the insert reads them, or 'null' when it has none. */
function flowOf(j: NewJob): string {
  const { after, concurrency: c, sequence: q } = j;
  if ((after ?? null) === null && (c ?? null) === null && (q ?? null) === null) return 'null';
  // Absent rather than null: the statement tests `flow->'after' IS NOT NULL`, and a JSON null is not NULL.
  return JSON.stringify({
    after: after ?? undefined,
    ck: c?.key,
    cl: c?.limit,
    cp: c?.alreadyRunning,
    sn: q?.name,
    sr: q?.run,
    ss: q?.step,
  });
}
