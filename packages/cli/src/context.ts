import type { Command } from 'commander';
import { CliError } from './errors.js';
import { openStore, type CliStore, type StoreSpec } from './store.js';
import { resolveStores, type StoreSet } from './tenants.js';

export interface GlobalOptions {
  store?: string[];
  schema?: string;
  tenant?: string;
}

/** A store a command runs against; `tenant` is its name when the stores are named. */
export interface Target {
  tenant?: string;
  spec: StoreSpec;
}

/**
 * The stores a command addresses. `across` is true when it reads every named store at once (tenants
 * and no --tenant): then tables get a TENANT column and JSON records a `tenant` field.
 */
export interface Selection {
  targets: Target[];
  across: boolean;
}

export interface OpenTarget {
  tenant?: string;
  store: CliStore;
}

export function storeSetOf(cmd: Command): StoreSet {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return resolveStores({ stores: o.store, schema: o.schema, env: process.env });
}

/** The root command's --store / --schema / --tenant (or ODDJOB_STORE / ODDJOB_TENANTS / ODDJOB_SCHEMA). */
export function selectionOf(cmd: Command): Selection {
  const set = storeSetOf(cmd);
  const tenant = cmd.optsWithGlobals<GlobalOptions>().tenant;
  switch (set.kind) {
    case 'single':
      if (tenant !== undefined)
        throw new CliError(
          `--tenant ${tenant}: the stores have no tenant names (name them with --store NAME=URL or ODDJOB_TENANTS)`,
        );
      return { targets: [{ spec: set.spec }], across: false };
    case 'tenants': {
      const all = set.tenants.map((t) => ({ tenant: t.name, spec: t.spec }));
      if (tenant === undefined) return { targets: all, across: true };
      const one = all.find((t) => t.tenant === tenant);
      if (one === undefined)
        throw new CliError(
          `unknown tenant ${JSON.stringify(tenant)} (${set.from} names ${all.map((t) => t.tenant).join(', ')})`,
        );
      return { targets: [one], across: false };
    }
    default: {
      const never: never = set;
      throw new CliError(`unknown store set ${String(never)}`);
    }
  }
}

/** "jobs retry" for messages. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The one store a change goes to. With several tenants the operator must say which: a change applied
 * to the wrong database cannot be taken back.
 */
export function oneTarget(cmd: Command, what = commandPath(cmd)): Target {
  const { targets } = selectionOf(cmd);
  if (targets.length > 1)
    throw new CliError(
      `${what} works on one store: with tenants ${targets.map((t) => t.tenant).join(', ')}, pass --tenant NAME`,
    );
  return targets[0];
}

/** An error from one tenant's store, with the tenant's name in front so the operator knows which. */
export function inTenant(tenant: string | undefined, err: unknown): unknown {
  if (tenant === undefined || !(err instanceof Error)) return err;
  const name = err instanceof CliError || err.name === 'Error' ? '' : `${err.name}: `;
  return new CliError(`tenant ${tenant}: ${name}${err.message}`, err instanceof CliError ? err.exitCode : 1, {
    cause: err.cause,
  });
}

/** Opens every target (all or none: a failure closes what opened), runs `fn`, closes them whatever happens. */
export async function withTargets<T>(targets: readonly Target[], fn: (open: OpenTarget[]) => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled(targets.map((t) => openStore(t.spec)));
  const open: OpenTarget[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') open.push({ tenant: targets[i].tenant, store: s.value });
  });
  try {
    const failed = settled.findIndex((s) => s.status === 'rejected');
    if (failed >= 0) throw inTenant(targets[failed].tenant, (settled[failed] as PromiseRejectedResult).reason);
    return await fn(open);
  } finally {
    await Promise.all(open.map((o) => o.store.close().catch(() => undefined)));
  }
}

/** For a change: opens the one store (see oneTarget), runs `fn`, closes the store whatever happens. */
export async function withStore<T>(cmd: Command, fn: (store: CliStore, tenant?: string) => Promise<T>): Promise<T> {
  const target = oneTarget(cmd);
  return withTargets([target], async ([o]) => {
    try {
      return await fn(o.store, o.tenant);
    } catch (err) {
      throw inTenant(o.tenant, err);
    }
  });
}

export interface PerTenant<T> {
  tenant?: string;
  value: T;
}

/** For a read: runs `fn` on every selected store at once; answers in the stores' order. */
export async function withStores<T>(
  cmd: Command,
  fn: (store: CliStore, tenant?: string) => Promise<T>,
): Promise<{ across: boolean; results: PerTenant<T>[] }> {
  const { targets, across } = selectionOf(cmd);
  const results = await withTargets(targets, async (open) => {
    // Every read settles before the stores close: a failing tenant must not cut the others' queries short.
    const settled = await Promise.allSettled(open.map((o) => fn(o.store, o.tenant)));
    return settled.map((s, i) => {
      if (s.status === 'rejected') throw inTenant(open[i].tenant, s.reason);
      return { tenant: open[i].tenant, value: s.value };
    });
  });
  return { across, results };
}
