import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeCursor, encodeCursor, readAfter, type Cursor } from './cursor.js';
import { decodeResult, isFinal, jobDetail, jobSummary, logLineView, runView } from './display.js';
import { DashboardHttpError, notAvailable } from './errors.js';
import { baseFilter, matches, type FilterQuery } from './job-filter.js';
import type { Scope, Tenant } from './tenants.js';
import * as S from './schemas.js';

/** Rows a text search may read per request before it answers what it found (with a cursor to go on). */
const TEXT_SCAN_BUDGET = 5_000;

/** The read routes of jobs: the filtered list, one job, its runs, logs and result. Changes are in routes-job-actions.ts. */
export function registerJobRoutes(app: FastifyInstance, scope: Scope): void {
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
        response: { 200: S.jobDetail, 404: S.errorBody },
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
}
