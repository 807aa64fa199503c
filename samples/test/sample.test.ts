import 'reflect-metadata';
import { expect } from 'chai';
import { runSample } from '../src/sample.js';
import { createStore } from '../src/store.js';

describe('sample', () => {
  it('runs the email, retrying and failing jobs to their final states', async () => {
    const store = await createStore();
    const lines: string[] = [];
    try {
      const result = await runSample(store, { print: (l) => lines.push(l), logger: { debug() {}, info() {}, warn() {}, error() {} } });
      expect([...result.succeeded].sort()).to.deep.equal(['sample.email', 'sample.email', 'sample.flaky']);
      expect(result.failed.map((f) => f.target).sort()).to.deep.equal(['sample.broken', 'sample.email']);
      expect(result.failed.find((f) => f.target === 'sample.email')!.error).to.match(/not an email address/);
      expect(result.failed.find((f) => f.target === 'sample.broken')!.error).to.equal('the disk is full');
      // flaky: two retries; broken: one retry (two attempts); the bad address: none (JobAbortError).
      expect(result.retries).to.equal(3);
      expect(result.emailsSent).to.equal(2);
      const counts = await store.admin.countJobs();
      const byStatus = Object.fromEntries(counts.map((c) => [c.status, c.count]));
      expect(byStatus).to.deep.equal({ done: 3, failed: 2 });
      expect(lines.at(-1)).to.match(/^done: 3 succeeded, 2 failed, 3 retries, 2 emails sent$/);
    } finally {
      await store.close();
    }
  });
});
