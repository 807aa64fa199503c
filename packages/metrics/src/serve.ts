import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * What the dashboard's `metrics` option wants: `startDashboard({ ..., metrics: dashboardMetrics(registry) })`.
 * Several registries (one per tenant, each with its own `tenant` default label) are merged at every
 * scrape by prom-client's aggregation; the labels keep their series apart.
 */
export function dashboardMetrics(
  registries: Registry | readonly Registry[],
): () => Promise<{ contentType: string; body: string }> {
  if (!Array.isArray(registries)) {
    const registry = registries as Registry;
    return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
  }
  const all = registries as readonly Registry[];
  return async () => {
    const merged = AggregatorRegistry.aggregate(await Promise.all(all.map((r) => r.getMetricsAsJSON())));
    return { contentType: merged.contentType, body: await merged.metrics() };
  };
}

export interface MetricsServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * A bare HTTP server answering GET /metrics, for processes that run no dashboard (a worker). Node's
 * own http module: one route needs no framework. Listens on 127.0.0.1 unless told otherwise.
 */
export async function serveMetrics(
  registry: Registry,
  options: { port?: number; host?: string } = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
