import { JOB_STATUSES, type JobFilter, type JobRecord, type JobStatus } from '@oddjob/core';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { CliStore } from '../store.js';

export const PAGE = 1000;

export function parseStatuses(
  value: string | undefined,
  allowed: readonly JobStatus[] = JOB_STATUSES,
): JobStatus[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) {
    if (!allowed.includes(s as JobStatus))
      throw new CliError(`--status ${JSON.stringify(s)}: must be one of ${allowed.join(', ')}`);
  }
  return list as JobStatus[];
}

export function intOption(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${name} ${JSON.stringify(value)}: must be an integer >= ${min}`);
  return n;
}

export interface FilterOpts {
  status?: string;
  queue?: string;
  target?: string;
  sequence?: string;
  run?: string;
}

export const withFilters = (cmd: Command): Command =>
  cmd
    .option('--status <list>', `comma-separated statuses (${JOB_STATUSES.join(', ')})`)
    .option('--queue <name>', 'only this queue')
    .option('--target <name>', 'only this target (the registered name)')
    .option('--sequence <name>', 'only steps of runs of this sequence')
    .option('--run <id>', 'only the steps of this sequence run');

/** Whether any filter option was given (the bulk commands need ids or a filter). */
export const hasFilter = (o: FilterOpts): boolean =>
  o.status !== undefined ||
  o.queue !== undefined ||
  o.target !== undefined ||
  o.sequence !== undefined ||
  o.run !== undefined;

export function filterOf(o: FilterOpts, defaultStatuses?: JobStatus[], allowed?: readonly JobStatus[]): JobFilter {
  return {
    status: parseStatuses(o.status, allowed) ?? defaultStatuses,
    queue: o.queue,
    target: o.target,
    ...(o.sequence !== undefined ? { sequence: o.sequence } : {}),
    ...(o.run !== undefined ? { sequenceRun: o.run } : {}),
  };
}

/** Every job matching the filter, page by page, each page after the last id of the one before (keyset). */
export async function listAll(store: CliStore, filter: JobFilter, max: number): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  let afterId = filter.afterId;
  while (out.length < max) {
    const page = await store.admin.listJobs({ ...filter, afterId, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) break;
    afterId = page[page.length - 1].id;
  }
  return out.slice(0, max);
}

export function describeFilter(f: JobFilter): string {
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`status ${[f.status].flat().join(',')}`);
  if (f.queue !== undefined) parts.push(`queue ${f.queue}`);
  if (f.target !== undefined) parts.push(`target ${f.target}`);
  if (f.sequence !== undefined) parts.push(`sequence ${f.sequence}`);
  if (f.sequenceRun !== undefined) parts.push(`run ${f.sequenceRun}`);
  if (f.afterId !== undefined) parts.push(`after ${f.afterId}`);
  return parts.length === 0 ? 'all jobs' : parts.join(', ');
}
