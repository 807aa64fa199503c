// The store's pool: adopting a pool the caller made, or making one from a connection string or
// config, and the config the LISTEN connection opens with. Apart from store.ts because telling the
// connection forms apart (and the plan-cache option for pools the store makes) is one concern and
// the store's operations are another.
import { InvalidOptionError } from '@oddjob/core';
import type { ClientConfig, Pool, PoolConfig } from 'pg';
import pg from 'pg';
import type { PostgresStoreOptions } from './options.js';

/**
 * Connection option for pools the store makes itself. Every statement is prepared once per
 * connection (see sql/context.ts), and PostgreSQL then plans it anew on every execution unless its
 * generic plan looks no dearer than a custom one. For the claim it never does: with the limit and
 * the queue list unknown, the estimates are ten times the real batch, so each claim was planned
 * again (~0.8 ms, a fifth of the claim's server time for 250 jobs). Every statement here is written
 * to use its index whatever the parameters (measured with force_generic_plan on 20,000 jobs), so the
 * generic plan is the right one. With a pool of your own, add `-c plan_cache_mode=force_generic_plan`
 * to its `options` for the same effect.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

function isPool(value: unknown): value is Pool {
  if (value instanceof pg.Pool) return true;
  // A pool from another copy of pg fails instanceof; recognise it by shape.
  const v = value as Partial<Pool> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.connect === 'function' &&
    typeof v.query === 'function' &&
    'totalCount' in v
  );
}

export interface StorePool {
  pool: Pool;
  /** The store made the pool, so it ends it on close (a pool passed in stays the caller's to end). */
  ownsPool: boolean;
  /** What the LISTEN connection connects with: the pool's own config. */
  listenConfig: ClientConfig;
}

/** Adopts the `connection` pool, or makes one from a connection string or a pg PoolConfig. */
export function openPool(connection: PostgresStoreOptions['connection']): StorePool {
  if (isPool(connection)) {
    // pg-pool keeps its config (password included, non-enumerable) on `options`: pass it as is.
    return { pool: connection, ownsPool: false, listenConfig: (connection as Pool & { options: PoolConfig }).options };
  }
  if (typeof connection === 'string' || (typeof connection === 'object' && connection !== null)) {
    const given: PoolConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
    const config: PoolConfig = { ...given, options: [given.options, GENERIC_PLANS].filter(Boolean).join(' ') };
    return { pool: new pg.Pool(config), ownsPool: true, listenConfig: config };
  }
  throw new InvalidOptionError('connection', 'must be a connection string, a pg PoolConfig or a pg.Pool');
}
