import { ScheduleManager, type JobRegistry } from '@oddjob/core';
import type { DashboardOptions, TenantOptions } from '@oddjob/dashboard';
import { Command } from 'commander';
import { selectionOf, withTargets, type OpenTarget } from '../context.js';
import { loadWorkerModule, port, untilSignal } from './serve.js';

/** The metrics package, loaded with the dashboard rather than at start-up. */
type Metrics = typeof import('@oddjob/metrics');
type Registry = ReturnType<Metrics['collectMetrics']>;

/** What the dashboard serves for one store, with its gauges and enqueue counter on `registry`. */
function tenantOptions(m: Metrics, t: OpenTarget, registry: Registry, jobRegistry?: JobRegistry): TenantOptions {
  return {
    admin: t.store.admin,
    adder: m.countedAdder(t.store.adder(jobRegistry), registry, jobRegistry),
    schedules: new ScheduleManager({ store: t.store.schedules, writer: t.store.writer }),
  };
}

/**
 * One store as before tenants; several as `{ tenants }`, each with a registry of its own labelled
 * `tenant`, merged on scrape (see the metrics package's dashboardMetrics).
 */
function storeOptions(m: Metrics, open: OpenTarget[], across: boolean, jobRegistry?: JobRegistry): DashboardOptions {
  if (!across) {
    const registry = m.collectMetrics({ admin: open[0].store.admin });
    return { ...tenantOptions(m, open[0], registry, jobRegistry), metrics: m.dashboardMetrics(registry) };
  }
  const registries = open.map((t) => {
    const registry = m.collectMetrics({ admin: t.store.admin });
    registry.setDefaultLabels({ tenant: t.tenant });
    return registry;
  });
  const tenants = Object.fromEntries(
    open.map((t, i) => [t.tenant as string, tenantOptions(m, t, registries[i], jobRegistry)]),
  );
  return { tenants, metrics: m.dashboardMetrics(registries) };
}

export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description(
      'serve the web UI and HTTP API for the store (with Prometheus /metrics) until Ctrl-C; with tenants, for every one (or --tenant)',
    )
    .option('--host <host>', 'listen address (default 127.0.0.1; others need auth, which this command does not set)')
    .option('--port <port>', 'default 4710; 0 picks a free one')
    .option('--read-only', 'refuse every change')
    .option('--module <path>', 'a worker module whose `registry` names the targets POST /api/jobs may enqueue')
    .action(async (o: { host?: string; port?: string; readOnly?: boolean; module?: string }, cmd: Command) => {
      const { targets, across } = selectionOf(cmd);
      const jobRegistry = o.module === undefined ? undefined : (await loadWorkerModule(o.module)).registry;
      // Loaded here, not at start-up: Fastify and the UI are only for this command.
      const [{ startDashboard }, m] = await Promise.all([import('@oddjob/dashboard'), import('@oddjob/metrics')]);
      await withTargets(targets, async (open) => {
        const dash = await startDashboard({
          ...storeOptions(m, open, across, jobRegistry),
          registry: jobRegistry,
          readOnly: o.readOnly === true,
          host: o.host ?? '127.0.0.1',
          port: port(o.port, 4710),
          logger: false,
        });
        const what = across
          ? `tenants ${open.map((t) => t.tenant).join(', ')}`
          : `${open[0].tenant === undefined ? '' : `tenant ${open[0].tenant}: `}${open[0].store.spec.describe}`;
        process.stdout.write(`dashboard for ${what}: ${dash.url}\n`);
        await untilSignal();
        await dash.close();
      });
    });
}
