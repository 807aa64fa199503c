import { MemoryJobStore, type IJobQueueAdmin, type IJobQueueManager, type IJobWriter } from '@oddjob/core';

/** What the sample needs from a store: write jobs, run them, read them back. */
export interface SampleStore {
  writer: IJobWriter<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  manager: IJobQueueManager;
  admin: IJobQueueAdmin;
  describe: string;
  close(): Promise<void>;
}

/**
 * The store the sample runs on. For now the in-memory store; the file store (@oddjob/storage-fs) and
 * PostgreSQL / SQL Server, picked by environment variables, plug in here without touching the rest.
 */
export async function createStore(): Promise<SampleStore> {
  const store = new MemoryJobStore();
  return { writer: store, manager: store, admin: store, describe: 'in-memory store', close: () => store.close() };
}
