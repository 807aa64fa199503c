import type { Command } from 'commander';
import { openStore, parseStoreSpec, type CliStore, type StoreSpec } from './store.js';

export interface GlobalOptions {
  store?: string;
  schema?: string;
}

/** The store named by the root command's --store / --schema (or ODDJOB_STORE / ODDJOB_SCHEMA). */
export function storeSpecOf(cmd: Command): StoreSpec {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return parseStoreSpec(o.store ?? process.env.ODDJOB_STORE, o.schema ?? process.env.ODDJOB_SCHEMA);
}

/** Opens the store, runs `fn`, closes the store whatever happens. */
export async function withStore<T>(cmd: Command, fn: (store: CliStore) => Promise<T>): Promise<T> {
  const store = await openStore(storeSpecOf(cmd));
  try {
    return await fn(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}
