import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgramSample } from '../src/program-sample.js';
import { createStore } from '../src/store.js';

describe('programs sample', () => {
  it('runs the console program on its schedule and shows its output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-program-sample-'));
    const store = await createStore({ ODDJOB_FS_DIR: join(dir, 'store') });
    const lines: string[] = [];
    try {
      const { runs } = await runProgramSample(store, { runs: 2, print: (l) => lines.push(l) });
      expect(runs).to.be.at.least(2);
    } finally {
      await store.close();
    }
    expect(lines).to.include('  | report for disk written');
    expect(lines.some((l) => /^ {2}\| .*Z stdout \| step 3\/3: writing the report$/.test(l))).to.equal(
      true,
      lines.join('\n'),
    );
    expect(lines.some((l) => /^ {2}! .*Z stderr \| \(a line on stderr/.test(l))).to.equal(true, lines.join('\n'));
  });
});
