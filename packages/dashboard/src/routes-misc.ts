import type { FastifyInstance, FastifyRequest } from 'fastify';
import { executorView } from './display.js';
import { notAvailable } from './errors.js';
import type { DashboardOptions } from './options.js';
import * as S from './schemas.js';
import type { Scope, Tenants } from './tenants.js';

/** Routes of one tenant scope (`/api` or `/api/t/:tenant`). */
export function registerMiscRoutes(app: FastifyInstance, scope: Scope, o: DashboardOptions, tenants: Tenants): void {
  const api = scope.prefix;
  app.get(
    `${api}/counts`,
    {
      schema: {
        tags: ['overview'],
        params: scope.params(),
        summary:
          'Job counts per queue and status (pairs with no jobs left out), as of `asOf`: a count that costs the store more than 25 ms is reused for 20 times its cost',
        querystring: { type: 'object', properties: { queue: { type: 'string' } }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              counts: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { queue: { type: 'string' }, status: { type: 'string' }, count: { type: 'integer' } },
                },
              },
              asOf: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
    async (req) => {
      const q = (req.query as { queue?: string }).queue;
      // One count of every queue serves every queue filter, so a filter costs the store no extra read.
      const snap = await scope.tenant(req).counts.read();
      const counts = q ? snap.counts.filter((c) => c.queue === q) : snap.counts;
      return { counts, asOf: snap.asOf.toISOString() };
    },
  );

  app.get(
    `${api}/throughput`,
    {
      schema: {
        tags: ['overview'],
        params: scope.params(),
        summary: 'Jobs turned done / failed per sampling interval, sampled by this server since it started',
        response: {
          200: {
            type: 'object',
            properties: {
              intervalMs: { type: 'integer' },
              points: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    at: { type: 'string' },
                    done: { type: 'integer' },
                    failed: { type: 'integer' },
                    queued: { type: 'integer', description: "jobs 'new' or 'retry' at the sample" },
                    waiting: { type: 'integer', description: "jobs 'waiting' (for parents or a slot) at the sample" },
                    processing: { type: 'integer' },
                  },
                },
              },
            },
          },
          501: S.errorBody,
        },
      },
    },
    async (req) => {
      const sampler = scope.tenant(req).sampler;
      if (sampler === null) throw notAvailable('throughput', 'sampling is turned off (options.throughput = false)');
      return { intervalMs: sampler.intervalMs, points: sampler.points() };
    },
  );

  app.get(
    `${api}/features`,
    {
      schema: {
        tags: ['overview'],
        params: scope.params(),
        summary: 'What this store and configuration provide (the UI hides the rest)',
        response: { 200: S.anyObject },
      },
    },
    async (req) => {
      const t = scope.tenant(req);
      return {
        enqueue: t.adder !== undefined,
        schedules: t.schedules !== undefined,
        throughput: t.sampler !== null,
        runs: t.caps.history,
        logs: t.caps.history,
        results: t.caps.history,
        executors: t.caps.executors !== null,
        sequences: true,
        metrics: o.metrics !== undefined,
        user: req.dashboardUser ?? null,
        tenant: t.name,
        tenants: tenants.names(),
      };
    },
  );

  app.get(
    `${api}/executors`,
    {
      schema: {
        tags: ['executors'],
        params: scope.params(),
        summary:
          'Executors registered in the store, by id: host, pid, version, queues, last heartbeat (stale ones flagged)',
        querystring: S.executorsQuery,
        response: { 200: S.executorsBody, 400: S.errorBody, 501: S.errorBody },
      },
    },
    async (req: FastifyRequest<{ Querystring: { staleAfterMs?: number } }>) => {
      const caps = scope.tenant(req).caps;
      if (caps.executors === null)
        throw notAvailable(
          'executors',
          'neither options.executors nor the admin object is an executor registry (listExecutors)',
        );
      const q = req.query.staleAfterMs;
      const list = await caps.executors.listExecutors(q === undefined ? {} : { staleAfterMs: q });
      const now = new Date();
      return { executors: list.map((e) => executorView(e, now)) };
    },
  );
}

/** Routes of the whole server: the tenant names and Prometheus metrics. */
export function registerServerRoutes(app: FastifyInstance, o: DashboardOptions, tenants: Tenants): void {
  app.get(
    '/api/tenants',
    {
      schema: {
        tags: ['tenants'],
        summary:
          'The tenant names this dashboard serves, each addressed as /api/t/NAME/...; empty for a single store (served at /api/...)',
        response: {
          200: { type: 'object', properties: { tenants: { type: 'array', items: { type: 'string' } } } },
        },
      },
    },
    async () => ({ tenants: tenants.names() }),
  );

  // The place for Prometheus metrics: outside /api, answered by whatever options.metrics renders.
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics (text exposition format)',
        response: { 200: { type: 'string' }, 501: S.errorBody },
      },
    },
    async (_req, reply) => {
      if (o.metrics === undefined) throw notAvailable('metrics', 'no metrics renderer was given (options.metrics)');
      const m = await o.metrics();
      return reply.type(m.contentType).send(m.body);
    },
  );
}
