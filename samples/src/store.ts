import { join } from 'node:path';
import type { IJobQueueAdmin, IJobQueueManager, IJobWriter, IScheduleStore } from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { SqlServerJobStore } from '@oddjob/storage-sqlserver';

/** What the sample needs from a store: write jobs, run them, read them back. */
export interface SampleStore {
  /** Without a transaction: the sample never has one (any store's IJobWriter<Tx> fits). */
  writer: IJobWriter<never>;
  manager: IJobQueueManager;
  admin: IJobQueueAdmin;
  schedules: IScheduleStore;
  describe: string;
  close(): Promise<void>;
}

/**
 * The store the sample runs on, chosen by configuration — one code path for every provider:
 * - `ODDJOB_MSSQL_URL` set: SQL Server (e.g. mssql://sa:pass@127.0.0.1:1433/master?trustServerCertificate=true)
 * - `ODDJOB_PG_URL` set: PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/test)
 * - otherwise: the embedded file store in `ODDJOB_FS_DIR` (default ./.oddjob-data), created on first use.
 * `ODDJOB_SCHEMA` names the SQL schema (default oddjob_sample).
 */
export async function createStore(env: NodeJS.ProcessEnv = process.env): Promise<SampleStore> {
  const schema = env.ODDJOB_SCHEMA ?? 'oddjob_sample';
  if (env.ODDJOB_MSSQL_URL) {
    const store = await SqlServerJobStore.open({ connection: env.ODDJOB_MSSQL_URL, schema });
    return {
      writer: store,
      manager: store,
      admin: store,
      schedules: store,
      describe: `SQL Server (schema ${schema})`,
      close: () => store.close(),
    };
  }
  if (env.ODDJOB_PG_URL) {
    const store = await PostgresJobStore.open({ connection: env.ODDJOB_PG_URL, schema });
    return {
      writer: store,
      manager: store,
      admin: store,
      schedules: store,
      describe: `PostgreSQL (schema ${schema})`,
      close: () => store.close(),
    };
  }
  const dir = env.ODDJOB_FS_DIR ?? join(process.cwd(), '.oddjob-data');
  const store = await FileJobStore.open({ dir, create: true });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    describe: `file store at ${dir}`,
    close: () => store.close(),
  };
}
