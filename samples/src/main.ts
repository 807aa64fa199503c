/**
 * `npm start`: serves the dashboard on 127.0.0.1 (dashboard.ts) and runs the sample on the store
 * from store.ts. When every job is final the dashboard keeps serving until Ctrl-C; with
 * ODDJOB_DASHBOARD=0 the sample exits by itself, as before. Ctrl-C (SIGINT) or SIGTERM stops it
 * gracefully: running jobs finish or are released.
 */
import 'reflect-metadata';
import { serveDashboard } from './dashboard.js';
import { runSample } from './sample.js';
import { createStore } from './store.js';

async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`\n${signal}: stopping (running jobs get 5 s to finish)`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const store = await createStore();
  const dashboard = await serveDashboard(store);
  try {
    await runSample(store, { signal: stop.signal });
    if (dashboard !== null && !stop.signal.aborted) {
      console.log(`sample done; the dashboard stays at ${dashboard.url} until Ctrl-C`);
      await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    await dashboard?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await store.close();
  }
}

main().catch((err: unknown) => {
  // One readable line first (a permanent storage error names the operation), then the details.
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  console.error(err);
  process.exitCode = 1;
});
