import type { FastifyRequest } from 'fastify';
import { capabilitiesOf, type Capabilities } from './capabilities.js';
import { CountsCache } from './counts-cache.js';
import { DashboardHttpError } from './errors.js';
import type { DashboardOptions, TenantOptions } from './options.js';
import { ThroughputSampler } from './throughput.js';

/** One store as the routes see it: its objects, what it can answer, and its throughput samples. */
export interface Tenant extends TenantOptions {
  /** null for the single store of `{ admin }` options (it has no name). */
  name: string | null;
  caps: Capabilities;
  /** Counts per queue and status, shared by the counts route and the sampler (see counts-cache.ts). */
  counts: CountsCache;
  sampler: ThroughputSampler | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for `/api/t/:tenant/...` routes once the name is known (unknown names answer 404 first). */
    dashboardTenant?: Tenant;
  }
}

/** The stores of one dashboard, by tenant name; the single `{ admin }` store is the one without a name. */
export class Tenants {
  private readonly byName = new Map<string, Tenant>();
  private readonly single: Tenant | null;

  constructor(o: DashboardOptions) {
    const t = o.throughput;
    const make = (name: string | null, opts: TenantOptions): Tenant => {
      const counts = new CountsCache(opts.admin);
      // The sampler wants the count at its tick, and each of its reads refreshes what the route serves.
      const fresh = { countJobs: async () => (await counts.refresh()).counts };
      return {
        name,
        admin: opts.admin,
        adder: opts.adder,
        schedules: opts.schedules,
        executors: opts.executors,
        caps: capabilitiesOf(opts),
        counts,
        sampler: t === false ? null : new ThroughputSampler(fresh, t?.intervalMs, t?.capacity),
      };
    };
    if (o.tenants === undefined) {
      this.single = make(null, o as TenantOptions);
      return;
    }
    this.single = null;
    for (const [name, opts] of Object.entries(o.tenants)) this.byName.set(name, make(name, opts));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): Tenant[] {
    return this.single === null ? [...this.byName.values()] : [this.single];
  }

  /**
   * What `/api/...` (no tenant in the path) serves: the single store, or the only tenant. With
   * several tenants there is no right guess, so the caller is told how to name one.
   */
  sole(): Tenant {
    if (this.single !== null) return this.single;
    const all = [...this.byName.values()];
    if (all.length === 1) return all[0];
    throw new DashboardHttpError(
      400,
      `this dashboard serves several tenants (${this.names().join(', ')}): address one as /api/t/NAME/... (GET /api/tenants lists them)`,
    );
  }

  /** The tenant of `/api/t/:tenant/...`; 404 for a name this dashboard does not serve. */
  named(name: string): Tenant {
    const t = this.byName.get(name);
    if (t !== undefined) return t;
    throw new DashboardHttpError(
      404,
      this.single !== null
        ? `tenant "${name}" not found: this dashboard serves one store without tenant names (use /api/...)`
        : `tenant "${name}" not found (tenants: ${this.names().join(', ')})`,
    );
  }
}

/**
 * Where a set of routes is mounted: `/api` (the sole store) or `/api/t/:tenant` (a named one). The
 * routes are registered once per scope, so both shapes have the same schemas in the OpenAPI document.
 */
export interface Scope {
  prefix: '/api' | '/api/t/:tenant';
  /** The route's params schema with `tenant` added in the tenant scope. */
  params(schema?: ParamsSchema): ParamsSchema;
  tenant(req: FastifyRequest): Tenant;
}

export interface ParamsSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required: readonly string[];
}

const tenantParam = { type: 'string', minLength: 1, description: 'the tenant name (GET /api/tenants)' } as const;

const noParams: ParamsSchema = { type: 'object', properties: {}, required: [] };

export function scopes(tenants: Tenants): Scope[] {
  return [
    // An empty schema rather than none: Fastify warns about a `params: undefined` key.
    { prefix: '/api', params: (s) => s ?? noParams, tenant: () => tenants.sole() },
    {
      prefix: '/api/t/:tenant',
      params: (s) => ({
        type: 'object',
        properties: { tenant: tenantParam, ...s?.properties },
        required: ['tenant', ...(s?.required ?? [])],
      }),
      tenant: (req) => req.dashboardTenant ?? tenants.named((req.params as { tenant: string }).tenant),
    },
  ];
}
