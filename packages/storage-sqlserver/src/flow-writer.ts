/**
 * The insert of a batch with jobs that may wait (after, concurrency keys): read and lock what the
 * placement rests on (statements/flow-insert.ts), place the batch (flow-placement.ts), write the
 * rows and their dependency rows — all in the one transaction the writer hands in, so a batch is all
 * or nothing and nothing it read can change before it commits.
 */
import type sql from 'mssql';
import type { JobStatus, NewJob } from '@oddjob/core';
import { chunk, type SqlServerContext } from './context.js';
import { placeBatch, storedParents, type BatchState } from './flow-placement.js';
import type { Placement } from './row-mapping.js';
import {
  DEPENDENCY_PARAMS_PER_ROW,
  flowInsertState,
  insertDependencies,
  MAX_PARAMS,
  type DependencyRowInput,
} from './statements.js';
import { keyLockResource } from './statements/flow.js';
import { keyIdentity } from './unique-key.js';

type InsertRows = (jobs: readonly NewJob[], placements: ReadonlyMap<string, Placement>) => Promise<Map<string, string>>;

/** What flowInsertState is asked for, as lists (each distinct, resources sorted as lockKeysText sorts). */
export interface StateRequest {
  resources: string[];
  parents: string[];
  keys: string[];
  uniqueKeys: string[];
}

/** The locks and reads a batch needs. Keys are sent once per identity (trailing spaces aside). */
export function stateRequest(ctx: Pick<SqlServerContext, 'names'>, jobs: readonly NewJob[]): StateRequest {
  const keys = new Map<string, string>();
  const uniqueKeys = new Map<string, string>();
  for (const j of jobs) {
    if (j.concurrency !== null) keys.set(keyIdentity(j.concurrency.key), j.concurrency.key);
    if (j.uniqueKey !== null) uniqueKeys.set(keyIdentity(j.uniqueKey), j.uniqueKey);
  }
  const resources = [...new Set([...keys.values()].map((k) => keyLockResource(ctx.names, k)))].sort();
  return { resources, parents: storedParents(jobs), keys: [...keys.values()], uniqueKeys: [...uniqueKeys.values()] };
}

/**
 * The request in pieces that each bind at most MAX_PARAMS values: one piece in the usual case; a
 * batch naming thousands of parents or keys reads them in several, the locks always first, in order.
 */
export function statePieces(req: StateRequest): StateRequest[] {
  const total = req.resources.length + req.parents.length + req.keys.length + req.uniqueKeys.length;
  if (total <= MAX_PARAMS) return [req];
  const empty = (): StateRequest => ({ resources: [], parents: [], keys: [], uniqueKeys: [] });
  const pieces: StateRequest[] = [];
  for (const field of ['resources', 'parents', 'keys', 'uniqueKeys'] as const) {
    for (const part of chunk(req[field], MAX_PARAMS)) pieces.push({ ...empty(), [field]: part });
  }
  return pieces;
}

type Rows = Record<string, unknown>[];

/** Reads the state under its locks. */
async function readState(ctx: SqlServerContext, jobs: readonly NewJob[], tx: sql.Transaction): Promise<BatchState> {
  const stored = new Map<string, JobStatus>();
  const keys = new Map<string, { admitted: number; queued: boolean; unfinished: string | null }>();
  const holders = new Map<string, string>();
  for (const piece of statePieces(stateRequest(ctx, jobs))) {
    const result = await ctx.runner.run(flowInsertState(ctx.names, piece), tx);
    const sets = [...(result.recordsets as unknown as Rows[])];
    if (piece.parents.length > 0) for (const r of sets.shift() ?? []) stored.set(r.id as string, r.status as JobStatus);
    if (piece.keys.length > 0) {
      for (const r of sets.shift() ?? []) {
        keys.set(keyIdentity(r.k as string), {
          admitted: Number(r.admitted),
          queued: Number(r.queued) > 0,
          unfinished: (r.unfinished as string | null) ?? null,
        });
      }
    }
    if (piece.uniqueKeys.length > 0) {
      for (const r of sets.shift() ?? []) {
        holders.set(keyIdentity(r.unique_key as string), r.id as string);
        stored.set(r.id as string, r.status as JobStatus);
      }
    }
  }
  return { stored, keys, holders };
}

/** Writes the batch (in-batch duplicate keys already folded by the writer); answers per job id. */
export async function writeFlowBatch(
  ctx: SqlServerContext,
  jobs: readonly NewJob[],
  tx: sql.Transaction,
  insertRows: InsertRows,
): Promise<Map<string, string>> {
  const placed = placeBatch(jobs, await readState(ctx, jobs, tx));
  const answers = new Map<string, string>();
  const toWrite: NewJob[] = [];
  const placements = new Map<string, Placement>();
  const dependencies: DependencyRowInput[] = [];
  for (const p of placed) {
    if (p.kind === 'answer') {
      answers.set(p.job.id, p.answer);
      continue;
    }
    toWrite.push(p.job);
    placements.set(p.job.id, p.placement);
    dependencies.push(...p.dependencies);
  }
  if (toWrite.length > 0) for (const [id, answer] of await insertRows(toWrite, placements)) answers.set(id, answer);
  for (const piece of chunk(dependencies, Math.floor(MAX_PARAMS / DEPENDENCY_PARAMS_PER_ROW))) {
    await ctx.runner.run(insertDependencies(ctx.names, piece), tx);
  }
  return answers;
}
