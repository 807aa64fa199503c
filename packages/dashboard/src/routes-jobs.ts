import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isJobStatus, type JobCall, type JobOptions, type JobRegistry, type JobStatus } from '@oddjob/core';
import { decodeCursor, encodeCursor, readAfter, type BaseFilter, type Cursor } from './cursor.js';
import { decodeResult, isFinal, jobDetail, jobSummary, logLineView, runView } from './display.js';
import { DashboardHttpError, notAvailable } from './errors.js';
import type { Scope, Tenant } from './tenants.js';
import * as S from './schemas.js';
import { logAction } from './plugin-auth.js';

/** Rows a text search may read per request before it answers what it found (with a cursor to go on). */
const TEXT_SCAN_BUDGET = 5_000;
const BULK_MAX = 10_000;

interface FilterQuery {
  status?: string;
  queue?: string;
  target?: string;
  text?: string;
  limit?: number;
  cursor?: string;
}

export function parseStatuses(text: string | undefined): JobStatus[] | undefined {
  if (text === undefined || text === '') return undefined;
  const list = text.split(',').map((s) => s.trim());
  for (const s of list)
    if (!isJobStatus(s))
      throw new DashboardHttpError(400, `status "${s}" is not one of new, processing, retry, done, failed, cancelled`);
  return list as JobStatus[];
}

function baseFilter(q: { status?: string; queue?: string; target?: string }): BaseFilter {
  const status = parseStatuses(q.status);
  return {
    ...(status === undefined ? {} : { status: status.length === 1 ? status[0] : status }),
    ...(q.queue ? { queue: q.queue } : {}),
    ...(q.target ? { target: q.target } : {}),
  };
}

function matches(
  text: string,
  r: {
    id: string;
    method: string;
    args: string;
    metadata: unknown;
    lastError: { message: string; name: string } | null;
  },
): boolean {
  const t = text.toLowerCase();
  return (
    r.id.includes(t) ||
    r.method.toLowerCase().includes(t) ||
    r.args.toLowerCase().includes(t) ||
    JSON.stringify(r.metadata).toLowerCase().includes(t) ||
    (r.lastError !== null &&
      (r.lastError.message.toLowerCase().includes(t) || r.lastError.name.toLowerCase().includes(t)))
  );
}

export function registerJobRoutes(app: FastifyInstance, scope: Scope, registry: JobRegistry): void {
  const api = scope.prefix;

  app.get(
    `${api}/jobs`,
    {
      schema: {
        tags: ['jobs'],
        params: scope.params(),
        summary: 'Jobs matching a filter, in id (creation) order, a page at a time (keyset cursor)',
        querystring: S.filterQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              jobs: { type: 'array', items: S.jobSummary },
              next: { type: ['string', 'null'] },
              scanned: { type: 'integer' },
            },
          },
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: FilterQuery }>) => {
      const { admin } = scope.tenant(req);
      const q = req.query;
      const filter = baseFilter(q);
      const limit = q.limit ?? 50;
      let cursor: Cursor | null = q.cursor ? decodeCursor(q.cursor) : null;
      if (!q.text) {
        const read = await readAfter(admin, filter, limit + 1, cursor);
        const rows = read.slice(0, limit);
        const last = rows[rows.length - 1];
        const next = read.length > limit && last ? encodeCursor({ afterId: last.id }) : null;
        return { jobs: rows.map(jobSummary), next, scanned: read.length };
      }
      // No store can search text today: scan pages and match here, within a budget per request.
      const found = [];
      let scanned = 0;
      for (;;) {
        const chunk = Math.min(500, TEXT_SCAN_BUDGET - scanned);
        const rows = await readAfter(admin, filter, chunk, cursor);
        for (const r of rows) {
          if (matches(q.text, r)) found.push(r);
          cursor = { afterId: r.id };
          if (found.length === limit) break;
        }
        scanned += rows.length;
        const exhausted = rows.length < chunk;
        if (found.length === limit || scanned >= TEXT_SCAN_BUDGET || exhausted) {
          const more = !exhausted || found.length === limit;
          return { jobs: found.map(jobSummary), next: more && cursor !== null ? encodeCursor(cursor) : null, scanned };
        }
      }
    },
  );

  /** The request's tenant, when it has run history (501 otherwise). */
  const withHistory = (req: FastifyRequest, what: string): Tenant => {
    const t = scope.tenant(req);
    if (!t.caps.history) throw notAvailable(what, 'the store has no run history (IJobQueueAdmin.listRuns / listLogs)');
    return t;
  };
  const existing = async ({ admin }: Tenant, id: string) => {
    const r = await admin.getJob(id);
    if (r === null) throw new DashboardHttpError(404, `job ${id} not found`);
    return r;
  };
  type ById<Q = unknown> = FastifyRequest<{ Params: { id: string }; Querystring: Q }>;

  app.get(
    `${api}/jobs/:id`,
    {
      schema: {
        tags: ['jobs'],
        summary:
          'One job: arguments and result decoded for display, progress and its message, and its runs (oldest first)',
        params: scope.params(S.idParam),
        response: { 200: S.anyObject, 404: S.errorBody },
      },
    },
    async (req: ById) => {
      const { admin, caps } = scope.tenant(req);
      const history = caps.history;
      const r = await admin.getJob(req.params.id, { runs: history });
      if (r === null) throw new DashboardHttpError(404, `job ${req.params.id} not found`);
      return { ...jobDetail(r), available: { runs: history, logs: history, result: history } };
    },
  );

  app.get(
    `${api}/jobs/:id/runs`,
    {
      schema: {
        tags: ['jobs'],
        summary: "The job's runs (attempts), oldest first, a page at a time",
        params: scope.params(S.idParam),
        querystring: S.runsQuery,
        response: { 200: S.runsBody, 400: S.errorBody, 404: S.errorBody, 501: S.errorBody },
      },
    },
    async (req: ById<{ limit?: number; offset?: number }>) => {
      const t = withHistory(req, 'job runs');
      const runs = await t.admin.listRuns(req.params.id, {
        limit: req.query.limit ?? 100,
        offset: req.query.offset ?? 0,
      });
      // An unknown job and a job never claimed both list no runs; only then is the extra read needed.
      if (runs.length === 0) await existing(t, req.params.id);
      return { runs: runs.map(runView) };
    },
  );

  app.get(
    `${api}/jobs/:id/logs`,
    {
      schema: {
        tags: ['jobs'],
        summary:
          "The job's log lines in write order; tail a running job by passing the last answer's lastSeq as afterSeq until final",
        params: scope.params(S.idParam),
        querystring: S.logsQuery,
        response: { 200: S.logsBody, 400: S.errorBody, 404: S.errorBody, 501: S.errorBody },
      },
    },
    async (req: ById<{ attempt?: number; afterSeq?: number; limit?: number }>) => {
      const t = withHistory(req, 'job logs');
      const q = req.query;
      const afterSeq = q.afterSeq ?? 0;
      const limit = q.limit ?? 1000;
      // The job is read BEFORE its lines: a store writes a run's last lines with its outcome, so when
      // the job was already final here, every line it will ever have is in the read that follows.
      const job = await existing(t, req.params.id);
      const lines = await t.admin.listLogs(req.params.id, {
        afterSeq,
        limit,
        ...(q.attempt !== undefined ? { attempt: q.attempt } : {}),
      });
      const last = lines[lines.length - 1];
      return {
        lines: lines.map(logLineView),
        lastSeq: last === undefined ? afterSeq : last.seq,
        more: lines.length === limit,
        final: isFinal(job.status),
      };
    },
  );

  app.get(
    `${api}/jobs/:id/result`,
    {
      schema: {
        tags: ['jobs'],
        summary: "A done job's return value, decoded for display and as stored",
        params: scope.params(S.idParam),
        response: { 200: S.resultBody, 404: S.errorBody, 501: S.errorBody },
      },
    },
    async (req: ById) => {
      const r = await existing(withHistory(req, 'job results'), req.params.id);
      return { id: r.id, status: r.status, ...decodeResult(r.result, r.id) };
    },
  );

  app.post(
    `${api}/jobs`,
    {
      schema: {
        tags: ['jobs'],
        params: scope.params(),
        summary: 'Enqueue a job in the plain form, for a registered target and method only',
        body: {
          type: 'object',
          required: ['target', 'method', 'args'],
          additionalProperties: false,
          properties: {
            target: { type: 'string', minLength: 1 },
            method: { type: 'string', minLength: 1 },
            args: { type: 'array', description: 'plain JSON values' },
            queue: { type: 'string' },
            runAt: { type: 'string', format: 'date-time' },
            delayMs: { type: 'integer', minimum: 0 },
            uniqueKey: { type: 'string' },
            metadata: { type: 'object', additionalProperties: true },
          },
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' } } },
          400: S.errorBody,
          501: S.errorBody,
        },
      },
    },
    async (
      req: FastifyRequest<{
        Body: JobCall & {
          queue?: string;
          runAt?: string;
          delayMs?: number;
          uniqueKey?: string;
          metadata?: Record<string, unknown>;
        };
      }>,
      reply,
    ) => {
      const t = scope.tenant(req);
      if (t.adder === undefined) throw notAvailable('enqueue', 'no adder was given to the dashboard');
      const b = req.body;
      // Refuse what no executor could run before it is stored: only registered targets and their own methods.
      if (!registry.has(b.target))
        throw new DashboardHttpError(
          400,
          `target "${b.target}" is not registered (known: ${registry.names().join(', ') || 'none'})`,
        );
      registry.resolveMethod(b.target, b.method);
      const options: JobOptions = {
        ...(b.queue !== undefined ? { queue: b.queue } : {}),
        ...(b.runAt !== undefined ? { runAt: new Date(b.runAt) } : {}),
        ...(b.delayMs !== undefined ? { delayMs: b.delayMs } : {}),
        ...(b.uniqueKey !== undefined ? { uniqueKey: b.uniqueKey } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
      };
      const id = await t.adder.addJob({ target: b.target, method: b.method, args: b.args }, options);
      logAction(req, t, 'enqueue', { id, target: b.target, method: b.method, queue: b.queue ?? 'default' });
      return reply.code(201).send({ id });
    },
  );

  app.post(
    `${api}/jobs/:id/cancel`,
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job that is not final',
        params: scope.params(S.idParam),
        response: { 200: S.okBody, 409: S.errorBody },
      },
    },
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const t = scope.tenant(req);
      const ok = await t.admin.cancelJob(req.params.id);
      logAction(req, t, 'cancel', { id: req.params.id, ok });
      if (!ok) throw new DashboardHttpError(409, `job ${req.params.id} is unknown or already final`);
      return { ok };
    },
  );

  app.post(
    `${api}/jobs/:id/retry`,
    {
      schema: {
        tags: ['jobs'],
        summary: 'Requeue a final job (attempts back to 0)',
        params: scope.params(S.idParam),
        response: { 200: S.okBody, 409: S.errorBody },
      },
    },
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const t = scope.tenant(req);
      const ok = await t.admin.requeueJob(req.params.id);
      logAction(req, t, 'retry', { id: req.params.id, ok });
      if (!ok) throw new DashboardHttpError(409, `job ${req.params.id} is unknown or not final`);
      return { ok };
    },
  );

  app.post(
    `${api}/jobs/purge`,
    {
      schema: {
        tags: ['jobs'],
        params: scope.params(),
        summary: 'Delete final jobs matching a filter',
        body: {
          type: 'object',
          required: ['statuses'],
          additionalProperties: false,
          properties: {
            statuses: { type: 'array', minItems: 1, items: { type: 'string', enum: S.FINAL } },
            finishedBefore: { type: 'string', format: 'date-time' },
            queue: { type: 'string' },
          },
        },
        response: { 200: { type: 'object', properties: { purged: { type: 'integer' } } } },
      },
    },
    async (
      req: FastifyRequest<{
        Body: { statuses: ('done' | 'failed' | 'cancelled')[]; finishedBefore?: string; queue?: string };
      }>,
    ) => {
      const b = req.body;
      const t = scope.tenant(req);
      const purged = await t.admin.purgeJobs({
        statuses: b.statuses,
        ...(b.finishedBefore !== undefined ? { finishedBefore: new Date(b.finishedBefore) } : {}),
        ...(b.queue !== undefined ? { queue: b.queue } : {}),
      });
      logAction(req, t, 'purge', { ...b, purged });
      return { purged };
    },
  );

  app.post(
    `${api}/jobs/bulk`,
    {
      schema: {
        tags: ['jobs'],
        params: scope.params(),
        summary: `Cancel or retry every job matching a filter (at most ${BULK_MAX} per call)`,
        body: {
          type: 'object',
          required: ['action', 'filter'],
          additionalProperties: false,
          properties: {
            action: { type: 'string', enum: ['cancel', 'retry'] },
            filter: {
              type: 'object',
              additionalProperties: false,
              properties: { status: { type: 'string' }, queue: { type: 'string' }, target: { type: 'string' } },
            },
            max: { type: 'integer', minimum: 1, maximum: BULK_MAX, default: 1000 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { matched: { type: 'integer' }, changed: { type: 'integer' }, more: { type: 'boolean' } },
          },
        },
      },
    },
    async (
      req: FastifyRequest<{
        Body: {
          action: 'cancel' | 'retry';
          filter: { status?: string; queue?: string; target?: string };
          max?: number;
        };
      }>,
    ) => {
      const t = scope.tenant(req);
      const admin = t.admin;
      const { action } = req.body;
      const filter = baseFilter(req.body.filter);
      const max = req.body.max ?? 1000;
      let cursor: Cursor | null = null;
      let matched = 0;
      let changed = 0;
      let more = false;
      for (;;) {
        const rows = await readAfter(admin, filter, Math.min(500, max - matched), cursor);
        for (const r of rows) {
          const ok = action === 'cancel' ? await admin.cancelJob(r.id) : await admin.requeueJob(r.id);
          if (ok) changed++;
        }
        matched += rows.length;
        const last = rows[rows.length - 1];
        if (last === undefined) break;
        cursor = { afterId: last.id };
        if (matched >= max) {
          more = (await readAfter(admin, filter, 1, cursor)).length > 0;
          break;
        }
      }
      logAction(req, t, `bulk ${action}`, { filter: req.body.filter, matched, changed });
      return { matched, changed, more };
    },
  );
}
