import { isLogLevel, type JobLogLine, type LogLevel, type StoredLogLine } from '@oddjob/core';
import { appendRecords, readRecords } from './jsonl.js';
import type { StoreContext } from './store-context.js';

/**
 * logs/<id>.jsonl: a job's log lines, every attempt's, in write order (see jsonl.ts for the format
 * and why a line's byte offset is its `seq`).
 *
 * Appended WITHOUT fsync, on purpose: log lines are not acknowledged writes (no caller waits on
 * their durability, and the executor bounds them per run), and an fsync per batch of lines would
 * put a disk flush on every job that logs. A crash of the machine may therefore lose the last lines
 * or leave the last one torn; the reader skips a torn line. The append is still fenced by the lease
 * (appendLogs checks it just before), like every write of a running job.
 */
interface LogLine {
  a: number;
  t: number;
  l: LogLevel;
  m: string;
}

export async function appendLogLines(
  ctx: StoreContext,
  jobId: string,
  attempt: number,
  lines: readonly JobLogLine[],
): Promise<void> {
  const records = lines.map((l): LogLine => ({ a: attempt, t: l.at.getTime(), l: l.level, m: l.message }));
  await appendRecords(ctx, ctx.layout.logsFile(jobId), `log of job ${jobId}`, records, false);
}

function decodeLine(raw: unknown): LogLine | null {
  if (raw === null || typeof raw !== 'object') return null;
  const { a, t, l, m } = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(t) || !isLogLevel(l) || typeof m !== 'string') return null;
  return { a: a as number, t: t as number, l, m };
}

/** `filter` is what core's checkLogFilter answered. */
export async function readLogs(
  ctx: StoreContext,
  jobId: string,
  filter: { attempt: number | undefined; afterSeq: number; limit: number },
): Promise<StoredLogLine[]> {
  const lines = await readRecords(ctx, ctx.layout.logsFile(jobId), filter.afterSeq, `log of job ${jobId}`, decodeLine);
  const out: StoredLogLine[] = [];
  for (const { seq, value } of lines) {
    if (out.length >= filter.limit) break;
    if (filter.attempt !== undefined && value.a !== filter.attempt) continue;
    out.push({ jobId, attempt: value.a, seq, at: new Date(value.t), level: value.l, message: value.m });
  }
  return out;
}
