import type { IJobQueueAdder, IJobQueueAdmin, JobRegistry, ScheduleManager } from '@oddjob/core';
import type { AuthOptions } from './auth.js';
import { TENANT_PATTERN } from '@oddjob/core';
import { isExecutorLister, type ExecutorLister } from './capabilities.js';

/** One store the dashboard serves: its admin API and, optionally, what enqueues and schedules there. */
export interface TenantOptions {
  admin: IJobQueueAdmin;
  /** Enables POST /api/jobs (enqueue in the plain form). */
  adder?: IJobQueueAdder<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Enables the schedule routes and page. */
  schedules?: ScheduleManager;
  /**
   * Where GET /api/executors reads the executor registry (what shells heartbeat into). Default: the
   * admin object itself when it is one (every OddJob store is); without either the route answers 501.
   */
  executors?: ExecutorLister;
}

/**
 * What the dashboard reads and drives. Only core's interfaces: pass any store's admin and adder, and
 * a ScheduleManager over its schedule store. Give one store (`admin`, with `adder`, `schedules`,
 * `executors`) or several under tenant names (`tenants`), not both. What is missing answers 501 and
 * its page is hidden.
 */
export interface DashboardOptions extends Partial<TenantOptions> {
  /**
   * Several stores, each under a tenant name (letters, digits, `_`, `.`, `-`; at most 100), addressed
   * as `/api/t/NAME/...`; `GET /api/tenants` lists the names. Give this or `admin`.
   */
  tenants?: Readonly<Record<string, TenantOptions>>;
  /** Targets that may be enqueued from the API; default core's defaultRegistry (where @job registers). */
  registry?: JobRegistry;
  auth?: AuthOptions;
  /** Everyone is read-only, whatever their credentials say. */
  readOnly?: boolean;
  /** Sampling of counts for the throughput chart (per tenant); default every 5 s, 720 samples (an hour). */
  throughput?: { intervalMs?: number; capacity?: number } | false;
  /**
   * Answers GET /metrics (issue 19 plugs prom-client in here); without it /metrics answers 501.
   * Kept outside /api so a Prometheus scraper needs no knowledge of the API. One for the server,
   * whatever the tenants (label the series by tenant in the renderer).
   */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

function checkTenant(t: Partial<TenantOptions>, where: string): void {
  if (t === null || typeof t !== 'object') throw new TypeError(`dashboard ${where} must be an object with { admin }`);
  if (t.admin === undefined || typeof t.admin?.listJobs !== 'function') {
    throw new TypeError(`dashboard ${where}.admin must be an IJobQueueAdmin (getJob, listJobs, countJobs, ...)`);
  }
  if (t.executors !== undefined && !isExecutorLister(t.executors)) {
    throw new TypeError(`dashboard ${where}.executors must be an IExecutorRegistry (listExecutors)`);
  }
}

export function checkOptions(o: DashboardOptions): void {
  if (o === null || typeof o !== 'object')
    throw new TypeError('dashboard options must be an object with at least { admin } or { tenants }');
  if (o.tenants === undefined) {
    checkTenant(o, 'options');
    return;
  }
  if (o.admin !== undefined || o.adder !== undefined || o.schedules !== undefined || o.executors !== undefined)
    throw new TypeError(
      'dashboard options: give either one store (admin, adder, schedules, executors) or tenants, not both',
    );
  if (o.tenants === null || typeof o.tenants !== 'object' || Object.keys(o.tenants).length === 0)
    throw new TypeError('dashboard options.tenants must be an object of one or more { name: { admin, ... } }');
  for (const [name, t] of Object.entries(o.tenants)) {
    if (!TENANT_PATTERN.test(name))
      throw new TypeError(`dashboard tenant name "${name}" must match ${String(TENANT_PATTERN)}`);
    checkTenant(t, `options.tenants.${name}`);
  }
}
