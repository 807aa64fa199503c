import 'reflect-metadata';
import { job, Retry, type JobContext } from '@oddjob/core';
import { JobExecutorShell } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';

// A job is a method of a class registered under a stable name.
@job('greeter')
export class Greeter {
  async greet(name: string, ctx?: JobContext): Promise<string> {
    await ctx?.reportProgress(50);
    return `hello, ${name}`;
  }
}

export async function main(dir = './.oddjob-data'): Promise<string> {
  const store = await FileJobStore.open({ dir, create: true }); // or PostgresJobStore.open({ connection })
  const id = await store.adder().addJob(Greeter, (g) => g.greet('Ada'), {
    queue: 'greetings',
    retry: Retry.exponential(5, 1_000), // 5 attempts, 1 s, 2 s, 4 s, ... apart (with jitter)
    metadata: { requestedBy: 'readme' },
  });

  const shell = new JobExecutorShell({ manager: store }); // runs targets registered with @job
  shell.startJobQueue('greetings', { workers: 4 });
  while ((await store.getJob(id))?.status !== 'done') await new Promise((r) => setTimeout(r, 50));
  await shell.shutdown();
  await store.close();
  return id;
}
