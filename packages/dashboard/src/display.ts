import {
  deserializeArgs,
  deserializeResult,
  FINAL_JOB_STATUSES,
  type ExecutorEntry,
  type JobRecord,
  type JobRun,
  type ScheduleRecord,
  type StoredLogLine,
} from '@oddjob/core';

/**
 * Arguments as JSON a browser can show: the serializer keeps Dates, bigints, Maps, Sets, Buffers and
 * undefined, which JSON cannot; each becomes a small tagged object so the UI shows what was stored.
 */
export function toDisplay(value: unknown, depth = 0): unknown {
  if (depth > 20) return { $truncated: 'nested too deep' };
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
  if (value instanceof RegExp) return { $regexp: String(value) };
  if (value instanceof Uint8Array) {
    const b = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 256));
    return { $bytes: b.toString('base64'), length: value.byteLength };
  }
  if (value instanceof Map)
    return { $map: [...value].map(([k, v]) => [toDisplay(k, depth + 1), toDisplay(v, depth + 1)]) };
  if (value instanceof Set) return { $set: [...value].map((v) => toDisplay(v, depth + 1)) };
  if (value instanceof Error) return { $error: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => toDisplay(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toDisplay(v, depth + 1);
    return out;
  }
  return { $unknown: typeof value };
}

export function decodeArgs(text: string, id: string): { args: unknown[] | null; argsError: string | null } {
  try {
    return { args: toDisplay(deserializeArgs(text, id)) as unknown[], argsError: null };
  } catch (err) {
    return { args: null, argsError: (err as Error).message };
  }
}

/**
 * A done job's return value for display, with the stored text beside it (the display form loses
 * nothing a person needs, but a client that wants the exact value decodes `resultRaw` itself).
 * No result (not done, or a store without results) is `resultRaw: null`; `result` is then null too.
 */
export function decodeResult(
  text: string | null | undefined,
  id: string,
): { result: unknown; resultRaw: string | null; resultError: string | null } {
  const raw = text ?? null;
  if (raw === null) return { result: null, resultRaw: null, resultError: null };
  try {
    return { result: toDisplay(deserializeResult(raw, id)), resultRaw: raw, resultError: null };
  } catch (err) {
    return { result: null, resultRaw: raw, resultError: (err as Error).message };
  }
}

function iso(d: Date): string;
function iso(d: Date | null | undefined): string | null;
function iso(d: Date | null | undefined): string | null {
  return d === null || d === undefined ? null : d.toISOString();
}

/** A job as the list answers it: no arguments (they can be large), everything else. */
export function jobSummary(r: JobRecord) {
  return {
    id: r.id,
    queue: r.queue,
    target: r.target,
    method: r.method,
    status: r.status,
    runAt: iso(r.runAt),
    attempts: r.attempts,
    progress: r.progress,
    // `?? null`: a store written before run history returns records without the new fields.
    progressMessage: r.progressMessage ?? null,
    lastError: r.lastError === null ? null : { name: r.lastError.name, message: r.lastError.message },
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    finishedAt: iso(r.finishedAt),
    // `??`: a store built against a core before jobs that wait returns records without these.
    priority: r.priority ?? 0,
    waitingFor: r.waitingFor ?? null,
    sequence: r.sequence ?? null,
  };
}

/** A job with everything the store keeps, arguments decoded for display. */
export function jobDetail(r: JobRecord) {
  return {
    ...jobSummary(r),
    lastError: r.lastError,
    ...decodeArgs(r.args, r.id),
    retry: r.retry,
    metadata: r.metadata,
    uniqueKey: r.uniqueKey,
    uniqueScope: r.uniqueScope ?? 'stored',
    after: r.after ?? null,
    concurrency: r.concurrency ?? null,
    // `?? null`: a store written before host affinity returns records without it.
    pinnedHost: r.pinnedHost ?? null,
    lease: r.lease === null ? null : { owner: r.lease.owner, expiresAt: iso(r.lease.expiresAt) },
    ...decodeResult(r.result, r.id),
    startedAt: iso(r.startedAt),
    executorId: r.executorId ?? null,
    host: r.host ?? null,
    final: isFinal(r.status),
    runs: r.runs === undefined ? null : r.runs.map(runView),
  };
}

export function isFinal(status: JobRecord['status']): boolean {
  return (FINAL_JOB_STATUSES as readonly string[]).includes(status);
}

export function runView(r: JobRun) {
  return {
    attempt: r.attempt,
    state: r.state,
    executorId: r.executorId,
    host: r.host,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: r.durationMs,
    error: r.error,
    progress: r.progress,
    progressMessage: r.progressMessage,
    takeover: r.takeover ?? null,
  };
}

export function logLineView(l: StoredLogLine) {
  return { seq: l.seq, attempt: l.attempt, at: iso(l.at), level: l.level, message: l.message };
}

/**
 * `heartbeatAgeMs` is measured on this server's clock against the store's heartbeat time, so clock
 * skew between the two can make it look younger; it never goes below 0. `stale` is the store's own
 * judgement on its own clock, and is what the UI flags.
 */
export function executorView(e: ExecutorEntry, now: Date) {
  return {
    id: e.id,
    host: e.host,
    pid: e.pid,
    version: e.version,
    state: e.state,
    stale: e.stale,
    queues: e.queues.map((q) => ({ name: q.name, workers: q.workers })),
    startedAt: iso(e.startedAt),
    heartbeatAt: iso(e.heartbeatAt),
    heartbeatAgeMs: Math.max(0, now.getTime() - e.heartbeatAt.getTime()),
  };
}

export function scheduleView(s: ScheduleRecord, upcoming: Date[] | null) {
  return {
    name: s.name,
    cron: s.cron,
    timeZone: s.timeZone,
    target: s.target,
    method: s.method,
    ...decodeArgs(s.args, `schedule ${s.name}`),
    queue: s.queue,
    retry: s.retry,
    metadata: s.metadata,
    misfire: s.misfire,
    paused: s.paused,
    priority: s.priority ?? 0,
    concurrency: s.concurrency ?? null,
    nextFireAt: iso(s.nextFireAt),
    lastFireAt: iso(s.lastFireAt),
    upcoming: upcoming === null ? [] : upcoming.map((d) => d.toISOString()),
    version: s.version,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}
