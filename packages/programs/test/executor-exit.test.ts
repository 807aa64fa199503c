import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, tempDir, waitFor } from './helpers.js';

const indexUrl = new URL('../src/index.js', import.meta.url).href;
const coreUrl = import.meta.resolve('@oddjob/core');

describe('programs: the executor process exiting', function () {
  this.timeout(60_000);

  it('kills the process groups of programs still running when the executor process exits', async () => {
    const pidFile = join(tempDir(), 'left.pid');
    // A separate node process plays the executor: it starts a program, waits until its child runs, and exits.
    const script = `
      import { JobRegistry } from ${JSON.stringify(coreUrl)};
      import { registerPrograms } from ${JSON.stringify(indexUrl)};
      import { existsSync, readFileSync } from 'node:fs';
      const registry = new JobRegistry();
      registerPrograms(registry, { tree: { executable: '/bin/sh', args: ['-c', 'sleep 300 & echo $! > ${pidFile}; wait'] } });
      const Target = registry.resolveTarget('oddjob.program');
      const quiet = () => undefined;
      const ctx = { jobId: 'x', queue: 'q', attempt: 1, maxAttempts: 1, metadata: {}, signal: new AbortController().signal,
        logger: { debug: quiet, info: quiet, warn: quiet, error: quiet }, reportProgress: async () => true };
      new Target().run('tree', [], {}, ctx).catch(() => undefined);
      const t = setInterval(() => {
        if (existsSync(${JSON.stringify(pidFile)}) && readFileSync(${JSON.stringify(pidFile)}, 'utf8').trim()) { clearInterval(t); process.exit(0); }
      }, 10);`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore', timeout: 30_000 });
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pid).to.be.greaterThan(0);
    await waitFor(() => !alive(pid), `sleep ${pid} to be gone after its executor exited`, 5_000);
  });
});
