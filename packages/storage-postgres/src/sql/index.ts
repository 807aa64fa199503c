import type { Statement } from '../db.js';
import {
  cancelJob,
  countJobs,
  getJob,
  getJobs,
  jobRuns,
  listJobs,
  listJobsOfRun,
  listJobsOfSequence,
  listLogs,
  listOpenJobsInQueue,
  markWaited,
  notifyQueues,
  purgeExpired,
  purgeJobs,
  requeueJob,
} from './admin.js';
import { appendLogs } from './append-logs.js';
import { heartbeatExecutor, listExecutors, removeExecutor } from './executors.js';
import { claim } from './claim.js';
import { sqlContext } from './context.js';
import { extendLeases } from './extend-leases.js';
import { flowParents, keyHolders, lockKeys, repointParents, settleAdded } from './flow.js';
import { insertJobs, lookupHolders } from './insert-jobs.js';
import { recordAttempted } from './insert-attempted.js';
import { recordDone } from './record-done.js';
import { recordOutcomes } from './record-outcomes.js';
import { reportProgress } from './report-progress.js';
import {
  deleteSchedule,
  getSchedule,
  insertSchedule,
  listDueSchedules,
  listSchedules,
  updateSchedule,
} from './schedules.js';

const BUILDERS = {
  insertJobs,
  lookupHolders,
  flowParents,
  lockKeys,
  keyHolders,
  repointParents,
  settleAdded,
  recordAttempted,
  claim,
  recordOutcomes,
  recordDone,
  extendLeases,
  reportProgress,
  appendLogs,
  getJob,
  getJobs,
  jobRuns,
  listLogs,
  markWaited,
  listJobs,
  listJobsOfRun,
  listJobsOfSequence,
  listOpenJobsInQueue,
  countJobs,
  cancelJob,
  requeueJob,
  purgeJobs,
  purgeExpired,
  notifyQueues,
  heartbeatExecutor,
  removeExecutor,
  listExecutors,
  insertSchedule,
  getSchedule,
  listSchedules,
  updateSchedule,
  deleteSchedule,
  listDueSchedules,
} as const;

export type Statements = { readonly [K in keyof typeof BUILDERS]: Statement };

/** Every statement of a store, built once for its schema. */
export function buildStatements(schema: string): Statements {
  const ctx = sqlContext(schema);
  const out: Partial<Record<keyof typeof BUILDERS, Statement>> = {};
  for (const [key, build] of Object.entries(BUILDERS)) out[key as keyof typeof BUILDERS] = build(ctx);
  return out as Statements;
}

export { channelName, finishedChannelName } from './context.js';
