import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileJobStore } from '@oddjob/storage-fs';
import { main } from '../src/readme-example.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe("the README's example", () => {
  it('is the code in samples/src/readme-example.ts, word for word', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const source = await readFile(join(root, 'samples/src/readme-example.ts'), 'utf8');
    const block = /<!-- example: samples\/src\/readme-example\.ts -->\s*```ts\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README.md has the example block').to.not.equal(null);
    expect(block![1]).to.equal(source);
  });

  it('compiles (it is built with the samples) and runs its job to done', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-readme-'));
    try {
      const id = await main(join(dir, 'store'));
      const store = await FileJobStore.open({ dir: join(dir, 'store') });
      const job = await store.getJob(id);
      await store.close();
      expect(job!.status).to.equal('done');
      expect(job!.target).to.equal('greeter');
      expect(job!.metadata).to.deep.equal({ requestedBy: 'readme' });
      expect(job!.progress).to.equal(50);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the README's example, pasted and run as a script", () => {
  it('runs main() when started directly, prints the job done and exits 0', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-readme-script-'));
    try {
      const script = fileURLToPath(new URL('../src/readme-example.js', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: dir, timeout: 45_000 });
      expect(stdout).to.match(/^job [0-9a-f-]+ done: hello, Ada$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not import reflect-metadata (a dependency the user would not have)', async () => {
    const source = await readFile(join(root, 'samples/src/readme-example.ts'), 'utf8');
    expect(source).to.not.match(/reflect-metadata/);
  });
});
