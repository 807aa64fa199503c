/** JSON schemas shared by the routes; loose on output (additionalProperties) so new store fields pass through. */
import type { JobStatus } from '@oddjob/core';

/** A job's `after` (its parents and their rule); `parent` adds fields to each parent. */
export function afterView(description: string, parent: Record<string, object> = {}) {
  return {
    type: ['object', 'null'],
    description,
    properties: {
      rule: { type: 'string', enum: ['each', 'mixed'] },
      parents: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            ...parent,
            job: { type: 'string' },
            when: { type: 'string', enum: ['succeeded', 'failed', 'finished'] },
          },
        },
      },
    },
  } as const;
}

export const STATUSES = ['waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled'] as const;
export const FINAL = ['done', 'failed', 'cancelled'] as const;
// Fails to compile when core's JobStatus gains or loses a member this list does not: the response
// schemas enumerate the statuses, and a status missing here would fail serialization at run time.
type Listed = (typeof STATUSES)[number];
const everyStatusListed: [JobStatus] extends [Listed] ? ([Listed] extends [JobStatus] ? true : never) : never = true;
void everyStatusListed;

export const anyObject = { type: 'object', additionalProperties: true } as const;
export const errorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;
export const okBody = { type: 'object', properties: { ok: { type: 'boolean' } }, additionalProperties: true } as const;

/** The sequence run a job is a step of (null for a job outside any). */
const sequenceTag = {
  type: ['object', 'null'],
  properties: { name: { type: 'string' }, run: { type: 'string' }, step: { type: 'string' } },
} as const;

/** A concurrency key with its limit and already-running policy (null without a key). */
export const concurrencyView = {
  type: ['object', 'null'],
  properties: {
    key: { type: 'string' },
    limit: { type: 'integer' },
    alreadyRunning: { type: 'string', enum: ['skip', 'queue', 'allow'] },
  },
} as const;

export const jobSummary = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    queue: { type: 'string' },
    target: { type: 'string' },
    method: { type: 'string' },
    status: { type: 'string', enum: STATUSES },
    attempts: { type: 'integer' },
    runAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    priority: { type: 'integer', description: 'higher is claimed first (-32768 to 32767)' },
    waitingFor: {
      type: ['string', 'null'],
      enum: ['parents', 'slot', null],
      description: 'what a waiting job waits for: its parent jobs, or a slot of its concurrency key',
    },
    sequence: sequenceTag,
  },
} as const;

/** One job in full (GET /api/jobs/:id): the summary's fields and what only the detail carries. */
export const jobDetail = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ...jobSummary.properties,
    uniqueKey: { type: ['string', 'null'] },
    uniqueScope: { type: 'string', enum: ['queued', 'unfinished', 'stored'] },
    after: afterView('the parent jobs it waits for (or waited for), and the rule they decide it by'),
    concurrency: concurrencyView,
  },
} as const;

export const filterQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', description: 'one status or several separated by commas' },
    queue: { type: 'string' },
    target: { type: 'string' },
    sequence: { type: 'string', description: 'only steps of runs of this sequence (by name)' },
    sequenceRun: { type: 'string', description: 'only the steps of this sequence run (by run id)' },
    text: {
      type: 'string',
      description: 'substring of id, method, arguments, metadata or last error (a bounded scan)',
    },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', description: 'the `next` of the previous page' },
  },
  additionalProperties: false,
} as const;

export const idParam = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1 } },
  required: ['id'],
} as const;
export const nameParam = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1 } },
  required: ['name'],
} as const;

export const notAvailableResponse = { 501: errorBody } as const;

// Run history, logs, results and executors. Dates are ISO strings; `{}` is any JSON value (a
// decoded result or a progress object).
const nullableString = { type: ['string', 'null'] } as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;
const jobError = {
  type: ['object', 'null'],
  additionalProperties: true,
  properties: { name: { type: 'string' }, message: { type: 'string' }, stack: { type: 'string' } },
} as const;

export const runView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    attempt: { type: 'integer' },
    state: { type: 'string', enum: ['running', 'done', 'retry', 'failed', 'cancelled', 'lease-lost', 'released'] },
    executorId: { type: 'string' },
    host: nullableString,
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableDate,
    durationMs: { type: ['integer', 'null'] },
    error: jobError,
    progress: {},
    progressMessage: nullableString,
    /** Set when the run's host took over a job pinned to another host (it was overdue). */
    takeover: {
      type: ['object', 'null'],
      properties: { pinnedHost: { type: 'string' } },
      required: ['pinnedHost'],
    },
  },
} as const;

export const runsQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
  additionalProperties: false,
} as const;

export const runsBody = { type: 'object', properties: { runs: { type: 'array', items: runView } } } as const;

export const logsQuery = {
  type: 'object',
  properties: {
    attempt: { type: 'integer', minimum: 0, description: 'only lines of this attempt' },
    afterSeq: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: "only lines after this seq: pass the last answer's lastSeq to tail",
    },
    limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
  },
  additionalProperties: false,
} as const;

export const logsBody = {
  type: 'object',
  properties: {
    lines: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          seq: { type: 'integer' },
          attempt: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
          message: { type: 'string' },
        },
      },
    },
    lastSeq: {
      type: 'integer',
      description: 'the seq of the last line, or afterSeq when there were none: the next afterSeq',
    },
    more: { type: 'boolean', description: 'the page was full: ask again at once' },
    final: {
      type: 'boolean',
      description: 'the job was final before the lines were read, so no line can follow these: stop tailing',
    },
  },
} as const;

export const resultBody = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: STATUSES },
    result: {
      description: 'the return value decoded for display (Dates, bigints, Maps... as tagged objects); null without one',
    },
    resultRaw: { ...nullableString, description: 'the stored serialized text (decode with deserializeResult)' },
    resultError: { ...nullableString, description: 'why the stored text could not be decoded' },
  },
} as const;

export const executorsQuery = {
  type: 'object',
  properties: {
    staleAfterMs: {
      type: 'integer',
      minimum: 1,
      maximum: 2_147_483_647,
      description: 'flag an executor stale after this long without a heartbeat (default 30000)',
    },
  },
  additionalProperties: false,
} as const;

export const executorsBody = {
  type: 'object',
  properties: {
    executors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          host: { type: 'string' },
          pid: { type: 'integer' },
          version: { type: 'string' },
          state: { type: 'string', enum: ['running', 'stopping'] },
          stale: { type: 'boolean' },
          queues: {
            type: 'array',
            items: { type: 'object', properties: { name: { type: 'string' }, workers: { type: 'integer' } } },
          },
          startedAt: { type: 'string', format: 'date-time' },
          heartbeatAt: { type: 'string', format: 'date-time' },
          heartbeatAgeMs: { type: 'integer' },
        },
      },
    },
  },
} as const;
