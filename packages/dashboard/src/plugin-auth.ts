import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, hasAuth, type AuthOptions, type DashboardUser } from './auth.js';
import type { Tenant } from './tenants.js';

declare module 'fastify' {
  interface FastifyRequest {
    dashboardUser?: DashboardUser;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Everything with data behind it; the UI's static assets carry none and load before login. */
const GUARDED = /\/(api|openapi\.json|metrics)(\/|$|\?)/;

/**
 * Auth and read-only for every route of the dashboard: a request without valid credentials gets 401
 * (with a challenge, so a browser can ask for basic-auth credentials), a read-only user's
 * state-changing request gets 403 before any handler runs.
 */
export function installAuth(app: FastifyInstance, auth: AuthOptions | undefined, readOnly: boolean): void {
  const required = hasAuth(auth);
  app.addHook('onRequest', async (req, reply) => {
    if (!GUARDED.test(req.url)) return;
    if (required) {
      const user = authenticate(auth!, req.headers.authorization);
      if (user === null) {
        // No WWW-Authenticate challenge: the UI shows its own login form instead of the browser's.
        return reply.code(401).send({
          error: 'Unauthorized',
          message: 'missing or wrong credentials (Authorization: Bearer <token> or Basic)',
        });
      }
      req.dashboardUser = readOnly ? { ...user, readOnly: true } : user;
    } else {
      req.dashboardUser = { name: 'anonymous (loopback, no auth configured)', readOnly };
    }
    if (!SAFE.has(req.method) && req.dashboardUser.readOnly) {
      req.log.warn(
        {
          user: req.dashboardUser.name,
          ...tenantField((req.params as { tenant?: string } | undefined)?.tenant),
          method: req.method,
          url: req.url,
        },
        'dashboard: read-only user refused',
      );
      return reply.code(403).send({ error: 'Forbidden', message: `user "${req.dashboardUser.name}" is read-only` });
    }
  });
}

/** A tenant's name for a log line; nothing for the single store (it has none), as before tenants. */
const tenantField = (name: string | null | undefined) => (typeof name === 'string' ? { tenant: name } : {});

/** Every state-changing action goes to the log with who did it, and in which tenant. */
export function logAction(req: FastifyRequest, tenant: Tenant, action: string, details: Record<string, unknown>): void {
  req.log.info(
    { user: req.dashboardUser?.name ?? 'unknown', ...tenantField(tenant.name), action, ...details },
    `dashboard: ${action}`,
  );
}
