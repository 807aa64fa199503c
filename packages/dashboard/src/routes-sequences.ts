// Sequence runs: the list, one run with its steps, and cancel. A run is not stored as such (core
// reads it back from its step jobs, see core's sequence/runs.ts), so these routes only shape what
// getSequenceRun / listSequenceRuns answer; the cancel is a change, so it is refused to a read-only
// user by the auth hook like every other POST, and written to the audit log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cancelSequenceRun, getSequenceRun, listSequenceRuns } from '@oddjob/core';
import { runSummaryView, runView } from './display-sequences.js';
import { DashboardHttpError } from './errors.js';
import { logAction } from './plugin-auth.js';
import * as S from './schemas-sequences.js';
import { errorBody } from './schemas.js';
import type { Scope } from './tenants.js';

type ByRun = FastifyRequest<{ Params: { run: string } }>;

export function registerSequenceRoutes(app: FastifyInstance, scope: Scope): void {
  const api = scope.prefix;

  app.get(
    `${api}/sequences`,
    {
      schema: {
        tags: ['sequences'],
        params: scope.params(),
        summary:
          'Sequence runs, newest first, with the status derived from their steps; `name` for one sequence (without it every job of the store is read)',
        querystring: S.runsQuery,
        response: { 200: S.runListBody, 400: errorBody },
      },
    },
    async (req: FastifyRequest<{ Querystring: { name?: string; limit?: number } }>) => {
      const { admin } = scope.tenant(req);
      const { name, limit } = req.query;
      const runs = await listSequenceRuns(admin, { ...(name ? { name } : {}), limit: limit ?? 50 });
      return { runs: runs.map(runSummaryView) };
    },
  );

  app.get(
    `${api}/sequences/:run`,
    {
      schema: {
        tags: ['sequences'],
        summary: "One sequence run: its steps in definition order, each with its job, status and parents' steps",
        params: scope.params(S.runParam),
        response: { 200: S.runBody, 404: errorBody },
      },
    },
    async (req: ByRun) => {
      const run = await getSequenceRun(scope.tenant(req).admin, req.params.run);
      if (run === null) throw new DashboardHttpError(404, `sequence run ${req.params.run} not found`);
      return runView(run);
    },
  );

  app.post(
    `${api}/sequences/:run/cancel`,
    {
      schema: {
        tags: ['sequences'],
        summary:
          'Cancel every step of the run that is not final (children before parents); answers the steps it cancelled',
        params: scope.params(S.runParam),
        response: { 200: S.cancelBody, 404: errorBody, 409: errorBody },
      },
    },
    async (req: ByRun) => {
      const t = scope.tenant(req);
      const id = req.params.run;
      // Read first so an unknown run is told apart from a run with nothing left to cancel.
      if ((await getSequenceRun(t.admin, id)) === null)
        throw new DashboardHttpError(404, `sequence run ${id} not found`);
      const cancelled = await cancelSequenceRun(t.admin, id);
      logAction(req, t, 'sequence cancel', { run: id, cancelled });
      if (cancelled.length === 0) throw new DashboardHttpError(409, `sequence run ${id} has no step left to cancel`);
      return { ok: true, cancelled };
    },
  );
}
