import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { hasAuth, isLoopback } from './auth.js';
import { InsecureListenError } from './errors.js';
import type { DashboardOptions } from './options.js';
import { dashboardPlugin } from './plugin.js';

export interface StartDashboardOptions extends DashboardOptions {
  /** Default 127.0.0.1. Anything but a loopback address needs `auth`. */
  host?: string;
  /** Default 4710; 0 picks a free port. */
  port?: number;
  /** When the port is taken, listen on a free one instead of failing; default false. */
  fallbackToFreePort?: boolean;
  /** Fastify's logger option (pino); default `{ level: 'info' }`. */
  logger?: FastifyServerOptions['logger'];
}

export interface RunningDashboard {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds the standalone app without listening (tests use app.inject). */
export async function buildDashboard(
  options: DashboardOptions & { logger?: FastifyServerOptions['logger'] },
): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? { level: 'info' } });
  await app.register(dashboardPlugin, options);
  await app.ready();
  return app;
}

/** The standalone server: checks where it may listen before opening a socket. */
export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !hasAuth(options.auth)) throw new InsecureListenError(host);
  const app = await buildDashboard(options);
  let address: string;
  try {
    address = await app.listen({ host, port: options.port ?? 4710 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.fallbackToFreePort !== true) {
      await app.close();
      throw err;
    }
    address = await app.listen({ host, port: 0 });
  }
  return { app, url: `${address}/`, close: () => app.close() };
}
