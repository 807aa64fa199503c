/**
 * Run now, store only on failure (VITA 3A/3B): a confirmation email is sent at once; the mail
 * service is down for the first call, so the job is stored and an executor sends it on its retry
 * schedule. `node samples/dist/src/immediate-sample.js` runs it on a temporary file store.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobRegistry, Retry, jobContext } from '@oddjob/core';
import { ImmediateRunner, JobExecutorShell, JobPersistedError, silentLogger } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';

/** Down for its first call, as a mail service during an outage. */
let mailDown = true;
const sent: string[] = [];

const registry = new JobRegistry();
export class Confirmation {
  send(to: string): void {
    if (mailDown) {
      mailDown = false;
      throw new Error('mail service unavailable');
    }
    sent.push(`${to} (attempt ${jobContext().attempt})`);
  }
}
registry.register('sample-confirmation', Confirmation);

export async function runImmediateSample(print: (line: string) => void = console.log): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'oddjob-immediate-'));
  const store = await FileJobStore.open({ dir, create: true });
  const runner = new ImmediateRunner({ store, registry, logger: silentLogger });
  const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
  try {
    try {
      await runner.executeWithRetries(Confirmation, (c) => c.send('ada@example.com'), {
        queue: 'mail',
        retry: Retry.list([200, 60_000]),
      });
      print('sent at once');
    } catch (err) {
      if (!(err instanceof JobPersistedError)) throw err;
      print(`first attempt failed; stored as job ${err.jobId}, due ${err.runAt?.toISOString()}`);
      shell.startJobQueue('mail', { workers: 1, pulseMs: 50 });
      while ((await store.getJob(err.jobId))?.status !== 'done') await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of sent) print(`sent to ${s}`);
    return [...sent];
  } finally {
    await shell.shutdown();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runImmediateSample();
