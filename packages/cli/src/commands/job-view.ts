import { inspect } from 'node:util';
import { deserializeArgs, deserializeResult, type JobRecord, type JobRun, type StoredLogLine } from '@oddjob/core';
import { iso, table } from '../output.js';

function decodeArgs(job: JobRecord): unknown {
  try {
    return deserializeArgs(job.args, job.id);
  } catch (err) {
    return `(arguments cannot be decoded: ${(err as Error).message})`;
  }
}

function decodeResult(job: JobRecord): string {
  if (job.result === null) return '-';
  try {
    return inspect(deserializeResult(job.result, job.id), { depth: 6, breakLength: 100 });
  } catch (err) {
    return `(result cannot be decoded: ${(err as Error).message})`;
  }
}

function showRuns(runs: readonly JobRun[]): string {
  if (runs.length === 0) return 'runs: none yet\n';
  return `runs:\n${table(
    ['ATTEMPT', 'STATE', 'EXECUTOR', 'HOST', 'STARTED', 'DURATION', 'ERROR'],
    runs.map((r) => [
      String(r.attempt),
      r.state,
      r.executorId,
      (r.host ?? '-') + (r.takeover ? ` (took over from ${r.takeover.pinnedHost})` : ''),
      iso(r.startedAt),
      r.durationMs === null ? '-' : `${r.durationMs} ms`,
      r.error ? `${r.error.name}: ${r.error.message}`.slice(0, 80) : '-',
    ]),
  )}`;
}

function showLog(lines: readonly StoredLogLine[], limit: number): string {
  if (lines.length === 0) return 'log: empty\n';
  const more = lines.length === limit ? `(first ${limit} lines; use --log-limit for more)\n` : '';
  return `log:\n${lines.map((l) => `  ${iso(l.at)} #${l.attempt} ${l.level.padEnd(5)} ${l.message}`).join('\n')}\n${more}`;
}

/**
 * What a job waits for, and its parents, key and sequence step: the lines only such a job has.
 * `!= null`, not `!== null`: a store written before jobs that wait leaves these fields out.
 */
function flowLines(job: JobRecord): string[][] {
  const lines: string[][] = [];
  if (job.waitingFor != null)
    lines.push([
      'waiting for',
      job.waitingFor === 'slot' ? `a slot of key ${job.concurrency?.key ?? '?'}` : 'its parents to end',
    ]);
  if (job.after != null) {
    const rule = job.after.rule === 'mixed' ? ' (rule mixed: some parents done and some not)' : '';
    lines.push(['after', `${job.after.parents.map((p) => `${p.job} ${p.when}`).join(', ')}${rule}`]);
  }
  if (job.concurrency != null) {
    const c = job.concurrency;
    lines.push(['concurrency', `key ${c.key}, at most ${c.limit} at once, already running: ${c.alreadyRunning}`]);
  }
  if (job.sequence != null)
    lines.push(['sequence', `${job.sequence.name} run ${job.sequence.run} step ${job.sequence.step}`]);
  return lines;
}

/** The status as a list shows it: a waiting job says what for. */
export function statusText(job: Pick<JobRecord, 'status' | 'waitingFor'>): string {
  return job.waitingFor == null ? job.status : `${job.status} (${job.waitingFor})`;
}

/** `jobs show` as text; `tenant` is the store the job was found in, when the search went across tenants. */
export function showJob(
  job: JobRecord,
  runs: readonly JobRun[],
  log: readonly StoredLogLine[],
  logLimit: number,
  tenant?: string,
): string {
  const lines = [
    ...(tenant === undefined ? [] : [['tenant', tenant]]),
    ['id', job.id],
    ['status', job.status],
    ['queue', job.queue],
    ['call', `${job.target}.${job.method}`],
    ['args', inspect(decodeArgs(job), { depth: 6, breakLength: 100 })],
    ['attempts', `${job.attempts} of ${job.retry.maxAttempts}`],
    ['run at', iso(job.runAt)],
    ['created', iso(job.createdAt)],
    ['updated', iso(job.updatedAt)],
    ['finished', iso(job.finishedAt)],
    ['unique key', job.uniqueKey === null ? '-' : `${job.uniqueKey} (held while ${job.uniqueScope ?? 'stored'})`],
    ['priority', String(job.priority ?? 0)],
    ...flowLines(job),
    ['pinned to', job.pinnedHost ?? '-'],
    ['lease', job.lease ? `${job.lease.owner} until ${iso(job.lease.expiresAt)}` : '-'],
    [
      'progress',
      job.progress === null
        ? '-'
        : `${JSON.stringify(job.progress)}${job.progressMessage === null ? '' : ` (${job.progressMessage})`}`,
    ],
    ['result', decodeResult(job)],
    ['metadata', JSON.stringify(job.metadata)],
    ['last error', job.lastError ? `${job.lastError.name ?? 'Error'}: ${job.lastError.message}` : '-'],
  ];
  let out = lines.map(([k, v]) => `${k.padEnd(11)} ${v}`).join('\n') + '\n';
  if (job.lastError?.stack) out += `\n${job.lastError.stack}\n`;
  out += `\n${showRuns(runs)}\n${showLog(log, logLimit)}`;
  return out;
}
