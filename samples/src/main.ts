/**
 * `npm start`: runs the sample on the store from store.ts and exits by itself when every job is
 * final. Ctrl-C (SIGINT) or SIGTERM stops it gracefully: running jobs finish or are released.
 */
import 'reflect-metadata';
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
  try {
    await runSample(store, { signal: stop.signal });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
