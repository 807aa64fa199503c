// The storage contract's part on waitForJob: resolving on a final state, timeouts, aborts. Apart
// from contract-history.ts because it is the one part of the suite that runs on real timers (the
// waiter polls and sleeps), and every store wires its own wake-up to it.
import { expect } from 'chai';
import { InvalidOptionError, JobNotFoundError, WaitTimeoutError } from '../errors.js';
import { deserializeResult, serializeResult } from '../serializer.js';
import { err } from './contract-context.js';
import { rejection } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on waiting for a job to end. */
export function describeWaitContract(t: ContractContext): void {
  describe('waiting', function () {
    it('resolves with the final record once the job is done', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      const waiting = t.h.admin.waitForJob(id, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 30));
      await t.record({ kind: 'done', lease: t.leaseOf(job), result: serializeResult('ok', id) });
      const final = await waiting;
      expect(final.status).to.equal('done');
      expect(deserializeResult(final.result, id)).to.equal('ok');
    });

    it('resolves at once for a job already final, failed and cancelled included', async function () {
      const failed = await t.add(1);
      const [job] = await t.claim();
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('no') });
      const cancelled = await t.add(2);
      await t.h.admin.cancelJob(cancelled);
      expect((await t.h.admin.waitForJob(failed, { timeoutMs: 5_000 })).status).to.equal('failed');
      expect((await t.h.admin.waitForJob(cancelled, { timeoutMs: 5_000 })).status).to.equal('cancelled');
    });

    it('times out, rejects an unknown id and a negative timeout, and stops when aborted', async function () {
      const id = await t.add();
      const timedOut = await rejection(t.h.admin.waitForJob(id, { timeoutMs: 50 }));
      expect(timedOut).to.be.instanceOf(WaitTimeoutError);
      expect((timedOut as WaitTimeoutError).message).to.contain('new');
      expect(
        await rejection(t.h.admin.waitForJob('01890a5d-ac96-774b-bcce-b302099a8057', { timeoutMs: 1_000 })),
      ).to.be.instanceOf(JobNotFoundError);
      expect(await rejection(t.h.admin.waitForJob(id, { timeoutMs: -1 }))).to.be.instanceOf(InvalidOptionError);
      const controller = new AbortController();
      const aborted = rejection(t.h.admin.waitForJob(id, { signal: controller.signal }));
      setTimeout(() => controller.abort(new Error('no longer needed')), 30);
      expect(((await aborted) as Error).message).to.equal('no longer needed');
    });
  });
}
