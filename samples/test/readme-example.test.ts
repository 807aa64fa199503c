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
