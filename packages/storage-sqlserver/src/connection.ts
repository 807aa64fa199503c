import sql from 'mssql';
import { InvalidOptionError, StoreSetupError } from '@oddjob/core';
import { parseConnectionString } from './connection-string.js';

/**
 * Where the store gets its connections. The store asks for the pool once per operation and makes an
 * `mssql` Request (or Transaction) from it; mssql borrows a connection from tarn for just that
 * request and gives it back. Implement this to share a pool the application already manages, to add
 * instrumentation, or to fail over.
 */
export interface IJobQueueDbConnectionFactory {
  /** A connected pool. Called for every operation, so it should be cheap after the first call. */
  getPool(): Promise<sql.ConnectionPool>;
  /** Releases what the factory opened (a factory handed an existing pool leaves it open). */
  close(): Promise<void>;
}

/**
 * tarn's pool settings as mssql passes them through (`config.pool`). Only the ones worth tuning for a
 * job store are offered; mssql's defaults are max 10, min 0, idle 30 s.
 */
export interface PoolOptions {
  /** Connections kept open even when idle. */
  min?: number;
  /** Upper bound on open connections; claims, outcome writes and enqueues share them. */
  max?: number;
  /** How long a request waits for a free connection before failing (tarn default 30 s). */
  acquireTimeoutMillis?: number;
  /** How long an unused connection stays open above `min`. */
  idleTimeoutMillis?: number;
  /** How long opening one connection may take. */
  createTimeoutMillis?: number;
}

const POOL_KEYS = ['min', 'max', 'acquireTimeoutMillis', 'idleTimeoutMillis', 'createTimeoutMillis'] as const;

export function validatePoolOptions(pool: unknown): PoolOptions {
  if (pool === undefined) return {};
  if (pool === null || typeof pool !== 'object' || Array.isArray(pool)) {
    throw new InvalidOptionError('pool', 'must be an object { min, max, acquireTimeoutMillis, idleTimeoutMillis, createTimeoutMillis }');
  }
  const p = pool as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!(POOL_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(`pool.${key}`, `is not a pool option (known: ${POOL_KEYS.join(', ')})`);
    }
  }
  for (const key of POOL_KEYS) {
    const v = p[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new InvalidOptionError(`pool.${key}`, `must be an integer >= 0, got ${String(v)}`);
    }
  }
  const out = p as PoolOptions;
  if (out.max !== undefined && out.max < 1) throw new InvalidOptionError('pool.max', 'must be at least 1');
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) {
    throw new InvalidOptionError('pool.min', `(${out.min}) must not exceed pool.max (${out.max})`);
  }
  return out;
}

/** What the store can be pointed at. */
export type ConnectionSetting = string | sql.config | sql.ConnectionPool | IJobQueueDbConnectionFactory;

function isFactory(c: unknown): c is IJobQueueDbConnectionFactory {
  return typeof (c as IJobQueueDbConnectionFactory).getPool === 'function' && typeof (c as IJobQueueDbConnectionFactory).close === 'function';
}

/**
 * Dates are written and read as UTC only if tedious' `useUTC` is on (its default). A pool configured
 * otherwise would shift every runAt by the process's offset, so it is refused outright.
 */
function assertUtc(config: sql.config | undefined): void {
  if (config?.options?.useUTC === false) {
    throw new InvalidOptionError('connection', 'options.useUTC is false; OddJob stores UTC datetime2 values and needs useUTC: true');
  }
}

/** The default factory: one mssql ConnectionPool, created from a string or config, or handed in. */
export class MssqlPoolConnectionFactory implements IJobQueueDbConnectionFactory {
  private readonly pool: sql.ConnectionPool;
  private readonly owned: boolean;
  private connecting: Promise<sql.ConnectionPool> | undefined;

  constructor(connection: string | sql.config | sql.ConnectionPool, pool: PoolOptions = {}) {
    if (connection instanceof sql.ConnectionPool) {
      if (Object.keys(pool).length > 0) {
        throw new InvalidOptionError('pool', 'cannot be set for a pool you created: configure that pool instead');
      }
      assertUtc((connection as unknown as { config?: sql.config }).config);
      this.pool = connection;
      this.owned = false;
      return;
    }
    const base = typeof connection === 'string' ? parseConnectionString(connection) : connection;
    if (base === null || typeof base !== 'object' || typeof base.server !== 'string' || base.server === '') {
      throw new InvalidOptionError('connection', 'a config object needs a "server"');
    }
    assertUtc(base);
    const config: sql.config = {
      ...base,
      options: { ...base.options, useUTC: true },
      pool: { ...base.pool, ...pool },
    };
    this.pool = new sql.ConnectionPool(config);
    this.owned = true;
  }

  getPool(): Promise<sql.ConnectionPool> {
    if (this.pool.connected) return Promise.resolve(this.pool);
    // One connect at a time; a failed connect is forgotten so that the next call tries again
    // (the database may simply not be up yet).
    this.connecting ??= this.pool.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw new StoreSetupError(`cannot connect to SQL Server: ${(err as Error).message}`, { cause: err });
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.close();
  }
}

export function connectionFactory(connection: ConnectionSetting, pool?: PoolOptions): IJobQueueDbConnectionFactory {
  if (connection === undefined || connection === null) {
    throw new InvalidOptionError('connection', 'is required: a connection string, an mssql config, an mssql ConnectionPool, or an IJobQueueDbConnectionFactory');
  }
  if (typeof connection === 'object' && !(connection instanceof sql.ConnectionPool) && isFactory(connection)) {
    if (pool !== undefined && Object.keys(pool).length > 0) {
      throw new InvalidOptionError('pool', 'cannot be set together with a connection factory');
    }
    return connection;
  }
  return new MssqlPoolConnectionFactory(connection as string | sql.config | sql.ConnectionPool, pool ?? {});
}
