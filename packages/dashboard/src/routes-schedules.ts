import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JobMetadata, MisfirePolicy, ScheduleManager, ScheduleOptions, SchedulePatch } from '@oddjob/core';
import { scheduleView } from './display.js';
import { DashboardHttpError, notAvailable } from './errors.js';
import type { Scope } from './tenants.js';
import { logAction } from './plugin-auth.js';
import * as S from './schemas.js';

const timing = {
  cron: { type: 'string' },
  at: { type: 'string', format: 'date-time' },
  timeZone: { type: 'string' },
  queue: { type: 'string' },
  metadata: { type: 'object', additionalProperties: true },
  misfire: { type: 'object', additionalProperties: true },
  // The jobs it makes: their priority, and whether one may start while an earlier one is not final.
  priority: { type: 'integer', minimum: -32768, maximum: 32767 },
  alreadyRunning: { type: 'string', enum: ['skip', 'queue', 'allow'] },
  concurrencyKey: { type: 'string', minLength: 1 },
  concurrencyLimit: { type: 'integer', minimum: 1 },
} as const;

type FlowFields = Pick<ScheduleOptions, 'priority' | 'alreadyRunning' | 'concurrencyKey' | 'concurrencyLimit'>;

/** The flow fields the body gives (left out: unchanged on a patch, the default on a create). */
function flowOf(b: FlowFields): FlowFields {
  return {
    ...(b.priority !== undefined ? { priority: b.priority } : {}),
    ...(b.alreadyRunning !== undefined ? { alreadyRunning: b.alreadyRunning } : {}),
    ...(b.concurrencyKey !== undefined ? { concurrencyKey: b.concurrencyKey } : {}),
    ...(b.concurrencyLimit !== undefined ? { concurrencyLimit: b.concurrencyLimit } : {}),
  };
}

interface ScheduleBody extends FlowFields {
  name: string;
  target: string;
  method: string;
  args: unknown[];
  cron: string;
  at?: string;
  timeZone?: string;
  queue?: string;
  metadata?: JobMetadata;
  misfire?: MisfirePolicy;
  paused?: boolean;
}
type PatchBody = Partial<Omit<ScheduleBody, 'name' | 'paused'>>;
type Named = FastifyRequest<{ Params: { name: string } }>;
type Req = FastifyRequest;

export function registerScheduleRoutes(app: FastifyInstance, scope: Scope): void {
  const api = scope.prefix;
  /** The request's tenant and its ScheduleManager (501 without one). */
  const need = (req: Req) => {
    const t = scope.tenant(req);
    if (t.schedules === undefined) throw notAvailable('schedules', 'no ScheduleManager was given to the dashboard');
    return { t, m: t.schedules };
  };
  const view = async (m: ScheduleManager, name: string) => {
    const info = await m.get(name, { upcoming: 5 });
    if (info === null) throw new DashboardHttpError(404, `schedule "${name}" not found`);
    return scheduleView(info, info.upcoming);
  };

  app.get(
    `${api}/schedules`,
    {
      schema: {
        tags: ['schedules'],
        params: scope.params(),
        summary: 'Every schedule with its next fire times',
        response: {
          200: { type: 'object', properties: { schedules: { type: 'array', items: S.anyObject } } },
          501: S.errorBody,
        },
      },
    },
    async (req: Req) => {
      const { m } = need(req);
      const list = await m.list();
      // The manager lists records without fire times; `get` computes them (cron math, no extra state).
      const schedules = await Promise.all(
        list.map(async (s) => (await m.get(s.name, { upcoming: 3 })) ?? { ...s, upcoming: [] }),
      );
      return { schedules: schedules.map((s) => scheduleView(s, s.upcoming)) };
    },
  );

  app.get(
    `${api}/schedules/:name`,
    {
      schema: {
        tags: ['schedules'],
        summary: 'One schedule with its next five fire times',
        params: scope.params(S.nameParam),
        response: { 200: S.anyObject, 404: S.errorBody },
      },
    },
    async (req: Named) => view(need(req).m, req.params.name),
  );

  app.post(
    `${api}/schedules`,
    {
      schema: {
        tags: ['schedules'],
        params: scope.params(),
        summary: 'Create a schedule of a registered target (plain form)',
        body: {
          type: 'object',
          required: ['name', 'target', 'method', 'args', 'cron'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            target: { type: 'string' },
            method: { type: 'string' },
            args: { type: 'array' },
            paused: { type: 'boolean' },
            ...timing,
          },
        },
        response: { 201: S.anyObject, 400: S.errorBody, 409: S.errorBody },
      },
    },
    async (req: FastifyRequest<{ Body: ScheduleBody }>, reply) => {
      const { t, m } = need(req);
      const b = req.body;
      const options: ScheduleOptions = {
        cron: b.cron,
        ...(b.at !== undefined ? { at: new Date(b.at) } : {}),
        ...(b.timeZone !== undefined ? { timeZone: b.timeZone } : {}),
        ...(b.queue !== undefined ? { queue: b.queue } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        ...(b.misfire !== undefined ? { misfire: b.misfire } : {}),
        ...(b.paused !== undefined ? { paused: b.paused } : {}),
        ...flowOf(b),
      };
      await m.create(b.name, { target: b.target, method: b.method, args: b.args }, options);
      logAction(req, t, 'schedule create', { name: b.name, target: b.target, method: b.method, cron: b.cron });
      return reply.code(201).send(await view(m, b.name));
    },
  );

  app.patch(
    `${api}/schedules/:name`,
    {
      schema: {
        tags: ['schedules'],
        summary: 'Change a schedule; fields left out keep their value (target, method and args go together)',
        params: scope.params(S.nameParam),
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { target: { type: 'string' }, method: { type: 'string' }, args: { type: 'array' }, ...timing },
        },
        response: { 200: S.anyObject, 400: S.errorBody, 404: S.errorBody },
      },
    },
    async (req: FastifyRequest<{ Params: { name: string }; Body: PatchBody }>) => {
      const { t, m } = need(req);
      const b = req.body;
      const job = [b.target, b.method, b.args];
      if (job.some((v) => v !== undefined) && job.some((v) => v === undefined)) {
        throw new DashboardHttpError(400, 'target, method and args change together: give all three or none');
      }
      const patch: SchedulePatch = {
        ...(b.cron !== undefined ? { cron: b.cron } : {}),
        ...(b.at !== undefined ? { at: new Date(b.at) } : {}),
        ...(b.timeZone !== undefined ? { timeZone: b.timeZone } : {}),
        ...(b.queue !== undefined ? { queue: b.queue } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        ...(b.misfire !== undefined ? { misfire: b.misfire } : {}),
        ...(b.target !== undefined ? { job: { target: b.target, method: b.method!, args: b.args! } } : {}),
        ...flowOf(b),
      };
      await m.update(req.params.name, patch);
      logAction(req, t, 'schedule update', { name: req.params.name, fields: Object.keys(b) });
      return view(m, req.params.name);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `${api}/schedules/:name/${action}`,
      {
        schema: {
          tags: ['schedules'],
          summary: `${action === 'pause' ? 'Pause' : 'Resume'} a schedule`,
          params: scope.params(S.nameParam),
          response: { 200: S.anyObject, 404: S.errorBody },
        },
      },
      async (req: Named) => {
        const { t, m } = need(req);
        await (action === 'pause' ? m.pause(req.params.name) : m.resume(req.params.name));
        logAction(req, t, `schedule ${action}`, { name: req.params.name });
        return view(m, req.params.name);
      },
    );
  }

  app.post(
    `${api}/schedules/:name/trigger`,
    {
      schema: {
        tags: ['schedules'],
        summary: "Enqueue the schedule's job now (its timing is unchanged)",
        params: scope.params(S.nameParam),
        response: { 200: { type: 'object', properties: { jobId: { type: 'string' } } }, 404: S.errorBody },
      },
    },
    async (req: Named) => {
      const { t, m } = need(req);
      const jobId = await m.triggerNow(req.params.name);
      logAction(req, t, 'schedule trigger', { name: req.params.name, jobId });
      return { jobId };
    },
  );

  app.delete(
    `${api}/schedules/:name`,
    {
      schema: {
        tags: ['schedules'],
        summary: 'Delete a schedule (jobs it made stay)',
        params: scope.params(S.nameParam),
        response: { 200: S.okBody, 404: S.errorBody },
      },
    },
    async (req: Named) => {
      const { t, m } = need(req);
      const ok = await m.delete(req.params.name);
      logAction(req, t, 'schedule delete', { name: req.params.name, ok });
      if (!ok) throw new DashboardHttpError(404, `schedule "${req.params.name}" not found`);
      return { ok };
    },
  );
}
