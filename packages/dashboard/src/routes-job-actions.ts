// The job routes that change something: enqueue, cancel, retry, purge and bulk cancel/retry, each
// written to the audit log. Apart from routes-jobs.ts (the read routes) because these are the
// routes a read-only dashboard refuses and the ones that check the registry before storing.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DependencyWhen, JobCall, JobOptions, JobRegistry } from '@oddjob/core';
import { readAfter, type Cursor } from './cursor.js';
import { DashboardHttpError, notAvailable } from './errors.js';
import { baseFilter } from './job-filter.js';
import type { Scope } from './tenants.js';
import * as S from './schemas.js';
import { logAction } from './plugin-auth.js';

const BULK_MAX = 10_000;

export function registerJobActionRoutes(app: FastifyInstance, scope: Scope, registry: JobRegistry): void {
  const api = scope.prefix;

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
            uniqueScope: { type: 'string', enum: ['queued', 'unfinished', 'stored'] },
            metadata: { type: 'object', additionalProperties: true },
            priority: { type: 'integer', minimum: -32768, maximum: 32767 },
            after: {
              type: 'array',
              description: 'parent job ids, or { job, when } (when: succeeded, failed or finished)',
              items: {
                anyOf: [
                  { type: 'string', minLength: 1 },
                  {
                    type: 'object',
                    required: ['job'],
                    additionalProperties: false,
                    properties: {
                      job: { type: 'string', minLength: 1 },
                      when: { type: 'string', enum: ['succeeded', 'failed', 'finished'] },
                    },
                  },
                ],
              },
            },
            afterRule: { type: 'string', enum: ['each', 'mixed'] },
            concurrencyKey: { type: 'string', minLength: 1 },
            concurrencyLimit: { type: 'integer', minimum: 1 },
            alreadyRunning: { type: 'string', enum: ['skip', 'queue', 'allow'] },
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
        Body: JobCall &
          Pick<
            JobOptions,
            'uniqueScope' | 'priority' | 'afterRule' | 'concurrencyKey' | 'concurrencyLimit' | 'alreadyRunning'
          > & {
            queue?: string;
            runAt?: string;
            delayMs?: number;
            uniqueKey?: string;
            metadata?: Record<string, unknown>;
            after?: (string | { job: string; when?: DependencyWhen })[];
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
        // The rest is checked by the adder (a parent that is not stored, a limit without a key...).
        ...(b.uniqueScope !== undefined ? { uniqueScope: b.uniqueScope } : {}),
        ...(b.priority !== undefined ? { priority: b.priority } : {}),
        ...(b.after !== undefined ? { after: b.after } : {}),
        ...(b.afterRule !== undefined ? { afterRule: b.afterRule } : {}),
        ...(b.concurrencyKey !== undefined ? { concurrencyKey: b.concurrencyKey } : {}),
        ...(b.concurrencyLimit !== undefined ? { concurrencyLimit: b.concurrencyLimit } : {}),
        ...(b.alreadyRunning !== undefined ? { alreadyRunning: b.alreadyRunning } : {}),
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
        summary: 'Cancel a job that is not final (waiting, new, retry or processing)',
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
              properties: {
                status: { type: 'string' },
                queue: { type: 'string' },
                target: { type: 'string' },
                sequence: { type: 'string' },
                sequenceRun: { type: 'string' },
              },
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
          filter: { status?: string; queue?: string; target?: string; sequence?: string; sequenceRun?: string };
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
