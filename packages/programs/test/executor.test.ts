import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobRegistry, MemoryJobStore, Retry, type IJobQueueManager, type JobLogger } from '@oddjob/core';
import { JobExecutorShell } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';
import { programJob, registerPrograms, type AllowList } from '../src/index.js';
import { alive, tempDir, waitFor } from './helpers.js';

const quiet: JobLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const sh = (script: string, extra: object = {}) => ({ executable: '/bin/sh', args: ['-c', script, 'sh'], ...extra });

type Store = IJobQueueManager & Pick<MemoryJobStore, 'getJob' | 'adder'>;

const stores: Array<[string, () => Promise<{ store: Store; close: () => Promise<void> }>]> = [
  ['memory', async () => ({ store: new MemoryJobStore(), close: async () => undefined })],
  [
    'file',
    async () => {
      const store = await FileJobStore.open({ dir: tempDir(), create: true });
      return { store: store as unknown as Store, close: () => store.close() };
    },
  ],
];

for (const [kind, open] of stores) {
  describe(`programs through the executor (${kind} store)`, function () {
    this.timeout(60_000);
    const dir = tempDir();
    const pidFile = join(dir, 'tree.pid');
    const list: AllowList = {
      hello: sh('echo "hello $1"', { vary: { pattern: /\w+/, maxCount: 1 } }),
      fails: sh('echo "broken config" >&2; exit 78', { noRetryExitCodes: [78] }),
      flaky: sh('exit 1'),
      tree: sh(`sleep 300 & echo $! > ${pidFile}; wait`, { killGraceMs: 300 }),
    };
    let shell: JobExecutorShell;
    let store: Store;
    let close: () => Promise<void>;
    const registry = new JobRegistry();
    registerPrograms(registry, list);

    before(async () => {
      ({ store, close } = await open());
      shell = new JobExecutorShell({ manager: store, registry, logger: quiet });
      shell.startJobQueue('programs', { workers: 4, pulseMs: 20, jobTimeoutMs: 1500, sweepMs: 100 });
    });
    after(async () => {
      await shell.shutdown({ timeoutMs: 2000 });
      await close();
    });

    const add = (call: ReturnType<typeof programJob>, retry = Retry.none()) =>
      store.adder({ registry }).addJob(call, { queue: 'programs', retry });
    const finished = async (id: string) => {
      await waitFor(
        async () => ['done', 'failed', 'cancelled'].includes((await store.getJob(id))?.status ?? ''),
        `job ${id} to finish`,
      );
      return (await store.getJob(id))!;
    };

    it('runs allowed programs; refused, failing and killed ones are recorded while the others keep running', async () => {
      const ok = await add(programJob('hello', ['world']));
      const refusedPath = await add(
        { target: 'oddjob.program', method: 'run', args: ['/bin/sh', ['-c', 'id'], {}] },
        Retry.fixed(3, 10),
      );
      const refusedArgs = await add(programJob('hello', ['a; rm -rf /']), Retry.fixed(3, 10));
      const noRetry = await add(programJob('fails'), Retry.fixed(3, 10));
      const flaky = await add(programJob('flaky'), Retry.fixed(2, 10));
      const tree = await add(programJob('tree'));
      const after = await add(programJob('hello', ['again']));

      const done = await finished(ok);
      expect(done.status).to.equal('done');
      const p = await finished(refusedPath);
      expect(p).to.include({ status: 'failed', attempts: 1 });
      expect(p.lastError).to.include({ name: 'ProgramRefusedError' });
      expect(p.lastError!.message).to.match(/never an executable path/);
      expect(await finished(refusedArgs)).to.deep.include({ status: 'failed', attempts: 1 });
      const nr = await finished(noRetry);
      expect(nr).to.include({ status: 'failed', attempts: 1 });
      expect(nr.lastError).to.include({ name: 'ProgramAbortError' });
      expect(nr.lastError!.message).to.match(/exited with code 78.*\nbroken config/s);
      const fl = await finished(flaky);
      expect(fl).to.include({ status: 'failed', attempts: 2 }); // an ordinary failure is retried
      expect(fl.lastError).to.include({ name: 'ProgramFailedError' });

      // the executor's job timeout aborts the signal: the whole tree goes
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'tree to start');
      const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
      const t = await finished(tree);
      expect(t.status).to.equal('failed');
      expect(t.lastError).to.include({ name: 'JobTimeoutError' }); // the executor records its own reason for the abort
      await waitFor(() => !alive(grandchild), `sleep ${grandchild} to be gone`, 5_000);
      expect((await finished(after)).status).to.equal('done');
    });
  });
}
