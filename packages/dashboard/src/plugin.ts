import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance } from 'fastify';
import {
  defaultRegistry,
  OddJobError,
  ScheduleConflictError,
  ScheduleExistsError,
  ScheduleNotFoundError,
  StorageError,
  StorageUnavailableError,
} from '@oddjob/core';
import { checkAuthOptions } from './auth.js';
import { DashboardHttpError } from './errors.js';
import { checkOptions, type DashboardOptions } from './options.js';
import { installAuth } from './plugin-auth.js';
import { registerJobActionRoutes } from './routes-job-actions.js';
import { registerJobRoutes } from './routes-jobs.js';
import { registerMiscRoutes, registerServerRoutes } from './routes-misc.js';
import { registerScheduleRoutes } from './routes-schedules.js';
import { registerSequenceRoutes } from './routes-sequences.js';
import { registerStatic } from './static.js';
import { scopes, Tenants } from './tenants.js';

/** Maps what the handlers and core throw to a status and `{ error, message }`. */
function statusOf(err: Error & { statusCode?: number; validation?: unknown }): number {
  if (err instanceof DashboardHttpError) return err.statusCode;
  if (err instanceof ScheduleNotFoundError) return 404;
  if (err instanceof ScheduleExistsError || err instanceof ScheduleConflictError) return 409;
  if (err instanceof StorageUnavailableError) return 503;
  if (err instanceof StorageError) return 500;
  if (err instanceof OddJobError) return 400; // bad option, unknown target/method, bad argument: the caller's input
  if (err.validation !== undefined) return 400;
  return typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
}

/**
 * The dashboard as a Fastify plugin: mount it in your own app with
 * `app.register(dashboardPlugin, { prefix: '/oddjob', admin, adder, schedules, auth })`, or with
 * `{ tenants: { a: { admin, ... }, b: { admin, ... } } }` for several stores under tenant names.
 */
export async function dashboardPlugin(
  app: FastifyInstance,
  options: DashboardOptions & { prefix?: string },
): Promise<void> {
  checkOptions(options);
  checkAuthOptions(options.auth);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'OddJob dashboard API',
        version: '0.1.0',
        description:
          'Jobs, schedules, counts and throughput of an OddJob store. Every /api/... route of the single store is also /api/t/{tenant}/... for one of several stores (GET /api/tenants lists them).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
  });
  installAuth(app, options.auth, options.readOnly === true);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = statusOf(err);
    if (status >= 500 && status !== 501 && status !== 503) req.log.error({ err }, 'dashboard: request failed');
    return reply.code(status).send({ error: err.name, message: err.message });
  });
  const tenants = new Tenants(options);
  // After auth: an unknown tenant answers 404 only to someone allowed to ask, and before the body
  // is validated, so the answer says what is wrong first.
  app.addHook('onRequest', async (req) => {
    const name = (req.params as { tenant?: unknown } | undefined)?.tenant;
    if (typeof name === 'string') req.dashboardTenant = tenants.named(name);
  });
  // A change made here shows at once in the counts, however expensive they are to read again. On
  // send, not on response: a client may ask for counts as soon as it has read the answer.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400)
      for (const t of tenants.all()) t.counts.invalidate();
    return payload;
  });
  const samplers = tenants.all().flatMap((t) => (t.sampler === null ? [] : [t.sampler]));
  if (samplers.length > 0) {
    app.addHook('onReady', async () => samplers.forEach((s) => s.start()));
    app.addHook('onClose', async () => samplers.forEach((s) => s.stop()));
  }
  const registry = options.registry ?? defaultRegistry;
  for (const scope of scopes(tenants)) {
    registerJobRoutes(app, scope);
    registerJobActionRoutes(app, scope, registry);
    registerScheduleRoutes(app, scope);
    registerSequenceRoutes(app, scope);
    registerMiscRoutes(app, scope, options, tenants);
  }
  registerServerRoutes(app, options, tenants);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerStatic(app, options.prefix ?? '/');
}
