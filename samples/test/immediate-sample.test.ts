import { expect } from 'chai';
import { runImmediateSample } from '../src/immediate-sample.js';

describe('immediate sample (run now, store only on failure)', () => {
  it('stores the failed send on the file store and the executor sends it once, on its second attempt', async () => {
    const lines: string[] = [];
    const sent = await runImmediateSample((l) => lines.push(l));
    expect(sent).to.deep.equal(['ada@example.com (attempt 2)']);
    expect(lines[0]).to.match(/^first attempt failed; stored as job \S+, due /);
  });
});
