import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileJobStore } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';
import { startScript } from './processes.js';

/** Concurrency keys across processes: the key's lock and members are shared through the directory. */
describe('fs store: one concurrency key, several processes', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async function () {
    dir = await tempDir();
    await FileJobStore.create(dir);
  });
  afterEach(async function () {
    await removeDir(dir);
  });

  async function run(...argv: string[][]): Promise<void> {
    const children = argv.map((a) => startScript('./keyed-child.js', a));
    const codes = await Promise.all(children.map((c) => c.exited));
    children.forEach((c, i) => expect(codes[i], c.stderr()).to.equal(0));
  }

  it('two processes adding 30 jobs each at once: exactly limit are admitted, the rest wait; drained never above the limit', async function () {
    await run(['add', dir, '30', 'race', '2', 'queue'], ['add', dir, '30', 'race', '2', 'queue']);
    const store = await FileJobStore.open({ dir, retention: false });
    try {
      const counts = await store.countJobs({ queue: 'kp' });
      expect(counts.find((c) => c.status === 'new')?.count).to.equal(2);
      expect(counts.find((c) => c.status === 'waiting')?.count).to.equal(58);
    } finally {
      await store.close();
    }
    const log = join(dir, 'log.txt');
    await writeFile(log, '');
    const drain = [
      startScript('./keyed-child.js', ['drain', dir, log, 'a']),
      startScript('./keyed-child.js', ['drain', dir, log, 'b']),
    ];
    const check = await FileJobStore.open({ dir, retention: false });
    try {
      for (;;) {
        const counts = await check.countJobs({ queue: 'kp' });
        if (counts.every((c) => c.status === 'done')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await check.close();
    }
    await writeFile(join(dir, 'stop'), '');
    const codes = await Promise.all(drain.map((c) => c.exited));
    expect(codes).to.deep.equal([0, 0]);
    const lines = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
    let running = 0;
    let most = 0;
    const started = new Set<string>();
    for (const l of lines) {
      const [kind, id] = l.split(' ');
      if (kind === 's') {
        expect(started.has(id), `${id} ran twice`).to.equal(false);
        started.add(id);
        most = Math.max(most, ++running);
      } else running--;
    }
    expect(started.size).to.equal(60);
    expect(most).to.equal(2);
  });

  it("two processes adding 'skip' jobs of one key at once store exactly one", async function () {
    await run(['add', dir, '10', 'once', '1', 'skip'], ['add', dir, '10', 'once', '1', 'skip']);
    const store = await FileJobStore.open({ dir, retention: false });
    try {
      expect(await store.listJobs({ queue: 'kp' })).to.have.length(1);
    } finally {
      await store.close();
    }
  });
});
