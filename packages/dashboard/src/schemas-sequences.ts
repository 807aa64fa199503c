/** JSON schemas of the sequence routes (apart from schemas.ts, which is about jobs). */
import { afterView, STATUSES } from './schemas.js';

const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
const STEP_STATUSES = [
  'waiting',
  'queued',
  'running',
  'retrying',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

export const runsQuery = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'only runs of this sequence' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
  additionalProperties: false,
} as const;

export const runParam = {
  type: 'object',
  properties: { run: { type: 'string', minLength: 1, description: 'the run id (shared by its step jobs)' } },
  required: ['run'],
} as const;

const runSummaryProperties = {
  run: { type: 'string' },
  name: { type: 'string', description: "the sequence's name" },
  status: {
    type: 'string',
    enum: RUN_STATUSES,
    description: 'derived from the steps each time it is read: running while a step is not final',
  },
  createdAt: { type: 'string', format: 'date-time' },
  finishedAt: nullableDate,
  stepCount: { type: 'integer' },
  stepsByStatus: {
    type: 'object',
    description: 'how many steps are in each step status (statuses with none left out)',
    additionalProperties: { type: 'integer' },
  },
} as const;

export const runListBody = {
  type: 'object',
  properties: { runs: { type: 'array', items: { type: 'object', properties: runSummaryProperties } } },
} as const;

const step = {
  type: 'object',
  properties: {
    step: { type: 'string' },
    jobId: { type: 'string' },
    status: {
      type: 'string',
      enum: STEP_STATUSES,
      description: "the step's status: the job's, with skipped branches (cancelled by their parents) told apart",
    },
    jobStatus: { type: 'string', enum: STATUSES },
    after: afterView("the step's parents, by step name, and the rule they decide it by", {
      step: { type: ['string', 'null'], description: 'null for a parent outside the run' },
    }),
    queue: { type: 'string' },
    target: { type: 'string' },
    method: { type: 'string' },
    attempts: { type: 'integer' },
    startedAt: nullableDate,
    finishedAt: nullableDate,
    lastError: {
      type: ['object', 'null'],
      properties: { name: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const runBody = {
  type: 'object',
  properties: { ...runSummaryProperties, steps: { type: 'array', items: step } },
} as const;

export const cancelBody = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    cancelled: { type: 'array', items: { type: 'string' }, description: 'the steps this call cancelled' },
  },
} as const;
