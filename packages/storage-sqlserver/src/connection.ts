import sql from 'mssql';
import { InvalidOptionError, StoreSetupError, describeValue, type JobLogger } from '@oddjob/core';
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
    throw new InvalidOptionError(
      'pool',
      'must be an object { min, max, acquireTimeoutMillis, idleTimeoutMillis, createTimeoutMillis }',
    );
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
      throw new InvalidOptionError(`pool.${key}`, `must be an integer >= 0, got ${describeValue(v)}`);
    }
  }
  const out = p as PoolOptions;
  if (out.max !== undefined && out.max < 1) throw new InvalidOptionError('pool.max', 'must be at least 1');
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) {
    throw new InvalidOptionError('pool.min', `(${out.min}) must not exceed pool.max (${out.max})`);
  }
  return out;
}

/**
 * Which T-SQL engine answers: Microsoft SQL Server (and Azure SQL), or Babelfish for PostgreSQL (the
 * T-SQL/TDS layer of Babelfish for Aurora PostgreSQL). The store runs the same statements on both;
 * the difference that matters is that Babelfish ignores table hints, so there concurrent claims
 * serialise on each other's rows instead of skipping them (see the README's Babelfish section).
 */
export type SqlServerEngine = 'sqlserver' | 'babelfish';

/** The engine and the first line of its @@VERSION, as read at connect. */
export interface ServerEngine {
  engine: SqlServerEngine;
  version: string;
}

/** Read once per pool at connect; @@VERSION exists on every SQL Server version and on Babelfish. */
export const ENGINE_QUERY = 'SELECT @@VERSION AS version;';

/**
 * Names the engine from @@VERSION's text: Babelfish's begins "Babelfish for PostgreSQL with SQL Server
 * Compatibility" (and names the PostgreSQL build); Microsoft's begins "Microsoft SQL Server" or
 * "Microsoft SQL Azure". Anything else is treated as SQL Server, the engine the statements are written for.
 */
export function engineFromVersion(version: unknown): ServerEngine {
  const text = typeof version === 'string' ? version : '';
  const first = text.split(/\r?\n/, 1)[0].trim();
  return { engine: /babelfish/i.test(text) ? 'babelfish' : 'sqlserver', version: first };
}

/**
 * Reading @@VERSION failed right after connecting. A StoreSetupError (the store cannot start
 * without knowing its engine); transient.ts's mapping turns one whose cause is transient (the
 * connection dropped in between) into StorageUnavailableError, so it is backed off like any blink.
 */
export class EngineDetectionError extends StoreSetupError {}

/** Asks the server which engine it is. */
export async function detectEngine(pool: sql.ConnectionPool): Promise<ServerEngine> {
  const result = await pool.request().query<{ version: string }>(ENGINE_QUERY);
  return engineFromVersion(result.recordset?.[0]?.version);
}

/**
 * Without a logger, only what needs a reader's attention is written (to stderr): the Babelfish notice.
 * A store handed a logger logs the engine at info on either engine.
 */
const stderrWarnings: Pick<JobLogger, 'info' | 'warn'> = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(`oddjob sqlserver: ${msg ?? ''} ${JSON.stringify(obj)}`),
};

/** Logs the engine once (callers call it once per pool). */
export function logEngine(info: ServerEngine, logger: Pick<JobLogger, 'info' | 'warn'> = stderrWarnings): void {
  switch (info.engine) {
    case 'sqlserver':
      logger.info({ engine: info.engine, version: info.version }, 'connected to Microsoft SQL Server');
      return;
    case 'babelfish':
      logger.warn(
        { engine: info.engine, version: info.version },
        'connected to Babelfish for PostgreSQL: table hints are ignored there, so concurrent claims serialise instead of skipping locked jobs (correct, slower under contention)',
      );
      return;
    default: {
      const never: never = info.engine;
      throw new Error(`unknown engine ${String(never)}`);
    }
  }
}

/**
 * The engine behind any connection factory: the one the default factory read at connect, or (for a
 * factory of your own) read now and logged. For the store to call once at open and expose.
 */
export async function engineOf(
  connections: IJobQueueDbConnectionFactory,
  logger?: Pick<JobLogger, 'info' | 'warn'>,
): Promise<ServerEngine> {
  if (connections instanceof MssqlPoolConnectionFactory) {
    await connections.getPool();
    return connections.engine!;
  }
  const pool = await connections.getPool();
  const info = await detectEngine(pool).catch((err: unknown) => {
    throw new EngineDetectionError(`reading @@VERSION failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  });
  logEngine(info, logger);
  return info;
}

/** What the store can be pointed at. */
export type ConnectionSetting = string | sql.config | sql.ConnectionPool | IJobQueueDbConnectionFactory;

function isFactory(c: unknown): c is IJobQueueDbConnectionFactory {
  return (
    typeof (c as IJobQueueDbConnectionFactory).getPool === 'function' &&
    typeof (c as IJobQueueDbConnectionFactory).close === 'function'
  );
}

/**
 * Dates are written and read as UTC only if tedious' `useUTC` is on (its default). A pool configured
 * otherwise would shift every runAt by the process's offset, so it is refused outright.
 */
function assertUtc(config: sql.config | undefined): void {
  if (config?.options?.useUTC === false) {
    throw new InvalidOptionError(
      'connection',
      'options.useUTC is false; OddJob stores UTC datetime2 values and needs useUTC: true',
    );
  }
}

/** The default factory: one mssql ConnectionPool, created from a string or config, or handed in. */
export class MssqlPoolConnectionFactory implements IJobQueueDbConnectionFactory {
  private readonly pool: sql.ConnectionPool;
  private readonly owned: boolean;
  private connecting: Promise<sql.ConnectionPool> | undefined;
  private detected: ServerEngine | undefined;
  private readonly logger: Pick<JobLogger, 'info' | 'warn'> | undefined;

  /** The engine read at the first connect (undefined before it). */
  get engine(): ServerEngine | undefined {
    return this.detected;
  }

  constructor(
    connection: string | sql.config | sql.ConnectionPool,
    pool: PoolOptions = {},
    options: { logger?: Pick<JobLogger, 'info' | 'warn'> } = {},
  ) {
    this.logger = options.logger;
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
    if (this.pool.connected && this.detected) return Promise.resolve(this.pool);
    // One connect at a time; a failed connect is forgotten so that the next call tries again
    // (the database may simply not be up yet). The engine is read once, right after the first
    // connect, so it is known (and logged) before any statement runs.
    this.connecting ??= this.connectAndDetect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async connectAndDetect(): Promise<sql.ConnectionPool> {
    if (!this.pool.connected) {
      try {
        await this.pool.connect();
      } catch (err) {
        throw new StoreSetupError(`cannot connect to SQL Server: ${(err as Error).message}`, { cause: err });
      }
    }
    if (!this.detected) {
      const info = await detectEngine(this.pool).catch((err: unknown) => {
        throw new EngineDetectionError(`connected, but reading @@VERSION failed: ${(err as Error).message}`, {
          cause: err,
        });
      });
      this.detected = info;
      logEngine(info, this.logger);
    }
    return this.pool;
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.close();
  }
}

export function connectionFactory(
  connection: ConnectionSetting,
  pool?: PoolOptions,
  options: { logger?: Pick<JobLogger, 'info' | 'warn'> } = {},
): IJobQueueDbConnectionFactory {
  if (connection === undefined || connection === null) {
    throw new InvalidOptionError(
      'connection',
      'is required: a connection string, an mssql config, an mssql ConnectionPool, or an IJobQueueDbConnectionFactory',
    );
  }
  if (typeof connection === 'object' && !(connection instanceof sql.ConnectionPool) && isFactory(connection)) {
    if (pool !== undefined && Object.keys(pool).length > 0) {
      throw new InvalidOptionError('pool', 'cannot be set together with a connection factory');
    }
    return connection;
  }
  return new MssqlPoolConnectionFactory(connection, pool ?? {}, options);
}
