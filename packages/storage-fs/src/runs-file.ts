import { endedRun, isRunState, type JobError, type JobRun, type RunState } from '@oddjob/core';
import type { JobContent } from './content.js';
import { toRecord } from './content.js';
import { describeCondition, toStoreError } from './errors.js';
import { appendRecords, readRecords } from './jsonl.js';
import { lastRunOf, type ParsedName } from './job-names.js';
import type { StoreContext } from './store-context.js';

/**
 * runs/<id>.jsonl: the ended runs of a job that its name cannot derive (see core's runs.ts: a
 * running or done attempt is read off the job's name; every other end writes a record here). Written
 * only on the rare paths, each append fsynced: a run record is part of the transition it records.
 *
 * Each record carries `k`, the key of the attempt it ends (its lease token; a requeued done job's
 * finish time): a rewrite that fails after its record was appended is retried by the executor and
 * appends it again, and the reader keeps the first record of each key.
 */
interface RunLine {
  k: string;
  a: number;
  e: string;
  h: string | null;
  s: number;
  f: number;
  st: RunState;
  er: JobError | null;
  p: JobRun['progress'];
  pm: string | null;
}

function encodeRun(key: string, r: JobRun): RunLine {
  return {
    k: key,
    a: r.attempt,
    e: r.executorId,
    h: r.host,
    s: r.startedAt.getTime(),
    f: (r.finishedAt ?? r.startedAt).getTime(),
    st: r.state,
    er: r.error,
    p: r.progress,
    pm: r.progressMessage,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function decodeRun(jobId: string, raw: unknown): { key: string; run: JobRun } | null {
  if (!isObj(raw)) return null;
  const { k, a, e, h, s, f, st, er, p, pm } = raw;
  if (
    typeof k !== 'string' ||
    !Number.isSafeInteger(a) ||
    typeof e !== 'string' ||
    !isTime(s) ||
    !isTime(f) ||
    !isRunState(st)
  )
    return null;
  if (h !== null && typeof h !== 'string') return null;
  if (pm !== null && typeof pm !== 'string') return null;
  if (er !== null && !(isObj(er) && typeof er.name === 'string' && typeof er.message === 'string')) return null;
  if (p !== null && typeof p !== 'number' && !isObj(p)) return null;
  return {
    key: k,
    run: {
      jobId,
      attempt: a as number,
      executorId: e,
      host: h,
      startedAt: new Date(s),
      finishedAt: new Date(f),
      state: st,
      error: er as JobError | null,
      // Read from the job's pin by core's withDerivedRun (a takeover is not stored on the run).
      takeover: null,
      durationMs: Math.max(0, f - s),
      progress: p,
      progressMessage: pm,
    },
  };
}

/** How one attempt ended: the job as it was (`content` + `name`), and what ended it. */
export interface RunEnd {
  content: JobContent;
  name: ParsedName;
  /** The attempt's key: its lease token (a requeued done job: `done@<finishedAt>`). */
  key: string;
  state: Exclude<RunState, 'running'>;
  error: JobError | null;
  finishedAt: number;
}

/**
 * Appends the record of the ended attempt, built by core's endedRun from the job as it was.
 * Nothing when the name holds no attempt (never claimed, or from layout 1). Throws if it cannot be
 * made durable.
 */
export async function appendEndedRun(ctx: StoreContext, end: RunEnd): Promise<void> {
  const host = await ctx.hosts.nameOf(lastRunOf(end.name).hostTag);
  const run = endedRun(toRecord(end.content, end.name, host), end.state, end.error, new Date(end.finishedAt));
  if (run === null) return;
  const isNew = await appendRecords(
    ctx,
    ctx.layout.runsFile(end.content.id),
    `run history of job ${end.content.id}`,
    [encodeRun(end.key, run)],
    true,
  );
  if (isNew) await ctx.syncer.sync(ctx.layout.runs);
}

/**
 * appendEndedRun after a transition that is already made (a rename: a cancel, a requeue, a claim
 * taking over a lease): it cannot be undone, so a record that cannot be written is reported, not thrown.
 */
export async function appendEndedRunAfter(ctx: StoreContext, end: RunEnd): Promise<void> {
  try {
    await appendEndedRun(ctx, end);
  } catch (err) {
    const path = ctx.layout.runsFile(end.content.id);
    ctx.problems.report(
      'unrecorded',
      path,
      `job ${end.content.id}: its ${end.state} run could not be recorded in ${path} (${describeCondition(err)}); the job itself changed as asked, its history misses that run`,
      toStoreError(ctx.layout.root, 'recordRun', err),
    );
  }
}

/** The job's stored runs, in file order, one per attempt key; [] when it has none. */
export async function readRuns(ctx: StoreContext, jobId: string): Promise<JobRun[]> {
  const lines = await readRecords(ctx, ctx.layout.runsFile(jobId), 0, `run history of job ${jobId}`, (raw) =>
    decodeRun(jobId, raw),
  );
  const seen = new Set<string>();
  const out: JobRun[] = [];
  for (const { value } of lines) {
    if (seen.has(value.key)) continue;
    seen.add(value.key);
    out.push(value.run);
  }
  return out;
}
