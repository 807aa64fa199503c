/**
 * The only file that knows the storage packages: turns `--store` into core interfaces. Everything
 * else in the CLI talks to IJobQueueAdmin, IJobQueueAdder, IJobQueueManager and IScheduleStore.
 */
import { resolve } from 'node:path';
import type {
  IExecutorRegistry,
  IJobQueueAdder,
  IJobQueueAdmin,
  IJobQueueManager,
  IJobWriter,
  IScheduleStore,
  JobRegistry,
} from '@oddjob/core';
import { CliError, EXIT_NOT_AVAILABLE } from './errors.js';

// The storage packages (and pg, mssql, tarn behind them) are imported when a store of their kind is
// opened, not at start-up: `oddjob --help` or a file-store command should not load two SQL drivers.
const fsStore = () => import('@oddjob/storage-fs');
const pgStore = () => import('@oddjob/storage-postgres');
const sqlServerStore = () => import('@oddjob/storage-sqlserver');

export type StoreKind = 'fs' | 'postgres' | 'sqlserver';

export interface StoreSpec {
  kind: StoreKind;
  /** A directory or a connection URL. */
  location: string;
  schema: string;
  /** For messages: no password. */
  describe: string;
}

export interface CliStore {
  spec: StoreSpec;
  admin: IJobQueueAdmin;
  manager: IJobQueueManager;
  /** Without a transaction: the CLI never has one (any store's IJobWriter<Tx> fits). */
  writer: IJobWriter<never>;
  schedules: IScheduleStore;
  executors: IExecutorRegistry;
  adder(registry?: JobRegistry): IJobQueueAdder<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export function parseStoreSpec(value: string | undefined, schema: string | undefined): StoreSpec {
  if (value === undefined || value.trim() === '') {
    throw new CliError('no store given: pass --store DIR|postgres://...|mssql://... or set ODDJOB_STORE');
  }
  const s = schema ?? 'oddjob';
  if (/^postgres(ql)?:\/\//i.test(value))
    return { kind: 'postgres', location: value, schema: s, describe: `PostgreSQL ${redactUrl(value)} (schema ${s})` };
  if (/^mssql:\/\//i.test(value))
    return { kind: 'sqlserver', location: value, schema: s, describe: `SQL Server ${redactUrl(value)} (schema ${s})` };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new CliError(
      `--store ${JSON.stringify(redactUrl(value))}: unknown scheme (use a directory, postgres:// or mssql://)`,
    );
  }
  const dir = resolve(value);
  return { kind: 'fs', location: dir, schema: s, describe: `file store ${dir}` };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Every OddJob store is one object playing every role; the CLI hands out those roles by name. */
type OneObjectStore = IJobQueueAdmin &
  IJobQueueManager &
  IJobWriter<never> &
  IScheduleStore &
  IExecutorRegistry & {
    adder(options: { registry?: JobRegistry }): ReturnType<CliStore['adder']>;
    close(): Promise<void>;
  };

function cliStoreOf(spec: StoreSpec, store: OneObjectStore): CliStore {
  return {
    spec,
    admin: store,
    manager: store,
    writer: store,
    schedules: store,
    executors: store,
    adder: (registry) => store.adder({ registry }),
    close: () => store.close(),
  };
}

/** Opens the store without migrating it: an operator's query must not change a schema by surprise. */
export async function openStore(spec: StoreSpec): Promise<CliStore> {
  switch (spec.kind) {
    case 'fs': {
      const { FileJobStore } = await fsStore();
      const store = await FileJobStore.open({ dir: spec.location });
      return cliStoreOf(spec, store);
    }
    case 'postgres': {
      const { PostgresJobStore } = await pgStore();
      const store = await PostgresJobStore.open({
        connection: spec.location,
        schema: spec.schema,
        migrations: 'verify',
        notify: true,
        onBackgroundError: () => undefined,
      });
      return cliStoreOf(spec, store);
    }
    case 'sqlserver': {
      const { SqlServerJobStore } = await sqlServerStore();
      const store = await SqlServerJobStore.open({
        connection: spec.location,
        schema: spec.schema,
        migrations: 'verify',
      });
      return cliStoreOf(spec, store);
    }
    default: {
      const never: never = spec.kind;
      throw new CliError(`unknown store kind ${String(never)}`);
    }
  }
}

/** The SQL `migrate --print` shows (the file store has none). */
export async function migrationSql(spec: StoreSpec): Promise<string> {
  switch (spec.kind) {
    case 'fs':
      throw new CliError(
        'the file store has no SQL to print: `oddjob migrate` creates its directory layout',
        EXIT_NOT_AVAILABLE,
      );
    case 'postgres': {
      const { MIGRATIONS: PG_MIGRATIONS } = await pgStore();
      const q = `"${spec.schema.replace(/"/g, '""')}"`;
      const parts = [
        `-- OddJob PostgreSQL schema ${spec.schema}: ${PG_MIGRATIONS.length} migrations. Run in one transaction.`,
        'BEGIN;',
        `CREATE SCHEMA IF NOT EXISTS ${q};`,
        `CREATE TABLE IF NOT EXISTS ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());`,
      ];
      for (const m of PG_MIGRATIONS) {
        parts.push(`-- migration ${m.version}: ${m.name}`);
        for (const statement of m.statements(q)) parts.push(`${statement.trim()};`);
        parts.push(
          `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}');`,
        );
      }
      parts.push('COMMIT;');
      return `${parts.join('\n')}\n`;
    }
    case 'sqlserver': {
      const { migrationScript, schemaNames } = await sqlServerStore();
      return migrationScript(schemaNames(spec.schema));
    }
    default: {
      const never: never = spec.kind;
      throw new CliError(`unknown store kind ${String(never)}`);
    }
  }
}

/** Applies migrations (creates the file store); answers a line saying what happened. */
export async function applyMigrations(spec: StoreSpec): Promise<string> {
  switch (spec.kind) {
    case 'fs':
      await (await fsStore()).FileJobStore.create(spec.location);
      return `file store ready at ${spec.location}`;
    case 'postgres': {
      const [{ migrate: pgMigrate }, { default: pg }] = await Promise.all([pgStore(), import('pg')]);
      const pool = new pg.Pool({ connectionString: spec.location, max: 1 });
      pool.on('error', () => undefined);
      try {
        const { from, to } = await pgMigrate(pool, spec.schema);
        return from === to
          ? `schema ${spec.schema} is up to date (version ${to})`
          : `schema ${spec.schema}: version ${from} -> ${to}`;
      } finally {
        await pool.end();
      }
    }
    case 'sqlserver': {
      const { SqlServerJobStore } = await sqlServerStore();
      const store = await SqlServerJobStore.open({
        connection: spec.location,
        schema: spec.schema,
        migrations: 'apply',
      });
      await store.close();
      return `schema ${spec.schema} is at the latest version`;
    }
    default: {
      const never: never = spec.kind;
      throw new CliError(`unknown store kind ${String(never)}`);
    }
  }
}
