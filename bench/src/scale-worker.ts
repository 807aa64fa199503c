/**
 * One executor process of the scale-out bench (scale.ts): opens the store named by its arguments,
 * says "ready", starts its queue when the parent writes "go", and shuts down on SIGTERM.
 *   node scale-worker.js pg <url> <schema> <workers>  |  node scale-worker.js fs <dir> - <workers>
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { JobRegistry, type IJobQueueManager } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';
import { PostgresJobStore } from '@oddjob/storage-postgres';

class NoopJob {
  run(_n: number): void {}
}

async function main(): Promise<void> {
  const [kind, where, schema, workersArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  const store: IJobQueueManager & { close(): Promise<void> } =
    kind === 'pg'
      ? await PostgresJobStore.open({ connection: where, schema: schema, deleteDoneJobs: true })
      : await FileJobStore.open({ dir: where, retention: false });
  const registry = new JobRegistry().register('noop', NoopJob);
  const shell = new JobExecutorShell({ manager: store, registry, logger: silentLogger });
  const stop = async () => {
    await shell.shutdown({ timeoutMs: 5000 });
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'go')
      shell.startJobQueue('default', { workers, maxPending: 500, pulseMs: kind === 'pg' ? 1000 : 100 });
  });
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
