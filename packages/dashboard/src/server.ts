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
  /**
   * How long `close()` lets requests already running finish before it cuts their connections;
   * default 5,000 ms. Every action is one store operation, so a cut request is either done or not
   * done in the store; only its answer is lost.
   */
  closeGraceMs?: number;
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
  return { app, url: `${address}/`, close: () => closeWithin(app, options.closeGraceMs ?? 5_000) };
}

/**
 * Fastify's close closes idle keep-alive sockets but waits for every request in flight, so a browser
 * tab whose poll is stuck on a slow store read would hold a shutdown open for as long as that read
 * takes. After the grace, every connection is cut and the close completes.
 */
async function closeWithin(app: FastifyInstance, graceMs: number): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  cut.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
