import { pathToFileURL } from 'node:url';
import { deserializeResult, job, jobContext, Retry } from '@oddjob/core';
import { JobExecutorShell } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';

// A job is a method of a class registered under a stable name.
@job('greeter')
export class Greeter {
  async greet(name: string): Promise<string> {
    const ctx = jobContext(); // the run's context: attempt, signal, logger, progress, log
    ctx.log('greeting %s', name); // stored with the run: listLogs(id), the dashboard, `oddjob jobs show`
    await ctx.reportProgress(50, 'half way');
    return `hello, ${name}`; // stored as the job's result
  }
}

export async function main(dir = './.oddjob-data', timeoutMs = 30_000): Promise<string> {
  const store = await FileJobStore.open({ dir, create: true }); // or PostgresJobStore.open({ connection })
  const id = await store.adder().addJob(Greeter, (g) => g.greet('Ada'), {
    queue: 'greetings',
    retry: Retry.exponential(5, 1_000), // 5 attempts, 1 s, 2 s, 4 s, ... apart (with jitter)
    metadata: { requestedBy: 'readme' },
  });

  const shell = new JobExecutorShell({ store }); // runs targets registered with @job
  shell.startJobQueue('greetings', { workers: 4 });
  try {
    // Resolves once the job is final (done, failed or cancelled), from this or any other process.
    const found = await store.waitForJob(id, { timeoutMs });
    if (found.status !== 'done') {
      throw new Error(`job ${id} ended ${found.status}: ${found.lastError?.message ?? 'no error recorded'}`);
    }
    console.log(`job ${id} done: ${String(deserializeResult(found.result, id))}`);
    return id;
  } finally {
    await shell.shutdown();
    await store.close();
  }
}

// Run when started directly (node readme-example.js), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
