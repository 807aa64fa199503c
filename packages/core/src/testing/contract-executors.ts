// The storage contract's part on the executor registry: heartbeats, staleness, pruning. Apart from
// contract-history.ts because the registry shares no state with jobs; it is its own interface
// (IExecutorRegistry) that each store implements beside the job tables.
import { expect } from 'chai';
import { InvalidOptionError } from '../errors.js';
import { rejection } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on the executor registry. */
export function describeExecutorContract(t: ContractContext): void {
  describe('executors', function () {
    const info = (id: string, queues = [{ name: 'default', workers: 4 }]) => ({
      id,
      host: 'box-a',
      pid: 4242,
      version: '1.2.3',
      queues,
      startedAt: new Date(Date.UTC(2030, 0, 1)),
      state: 'running' as const,
    });

    it('lists registered executors with their heartbeat; a heartbeat replaces the entry', async function () {
      await t.h.executors.heartbeatExecutor(info('exec-b'));
      await t.h.executors.heartbeatExecutor(info('exec-a'));
      t.clock.advance(1_000);
      await t.h.executors.heartbeatExecutor({ ...info('exec-a', [{ name: 'mail', workers: 2 }]), state: 'stopping' });
      const list = await t.h.executors.listExecutors();
      expect(list.map((e) => e.id)).to.deep.equal(['exec-a', 'exec-b']);
      expect(list[0]).to.deep.include({ host: 'box-a', pid: 4242, version: '1.2.3', state: 'stopping', stale: false });
      expect(list[0].queues).to.deep.equal([{ name: 'mail', workers: 2 }]);
      expect(list[0].startedAt.getTime()).to.equal(Date.UTC(2030, 0, 1));
      expect(list[0].heartbeatAt.getTime()).to.equal(t.clock.now().getTime());
      expect(list[1].heartbeatAt.getTime()).to.equal(t.clock.now().getTime() - 1_000);
    });

    it('flags a silent executor stale, prunes it after an hour, and forgets one that stopped', async function () {
      await t.h.executors.heartbeatExecutor(info('silent'));
      await t.h.executors.heartbeatExecutor(info('leaving'));
      t.clock.advance(31_000);
      await t.h.executors.heartbeatExecutor(info('alive'));
      let list = await t.h.executors.listExecutors();
      expect(list.map((e) => [e.id, e.stale])).to.deep.equal([
        ['alive', false],
        ['leaving', true],
        ['silent', true],
      ]);
      expect((await t.h.executors.listExecutors({ staleAfterMs: 60_000 })).every((e) => !e.stale)).to.equal(true);
      expect(await t.h.executors.removeExecutor('leaving')).to.equal(true);
      expect(await t.h.executors.removeExecutor('leaving')).to.equal(false);
      t.clock.advance(3_600_000);
      await t.h.executors.heartbeatExecutor(info('alive'));
      list = await t.h.executors.listExecutors();
      expect(list.map((e) => e.id)).to.deep.equal(['alive']);
    });

    it('refuses a malformed heartbeat, naming the field', async function () {
      const bad = (await rejection(t.h.executors.heartbeatExecutor({ ...info('x'), pid: -1 }))) as InvalidOptionError;
      expect(bad).to.be.instanceOf(InvalidOptionError);
      expect(bad.message).to.contain('pid');
      expect(
        await rejection(t.h.executors.heartbeatExecutor({ ...info('x'), state: 'gone' as never })),
      ).to.be.instanceOf(InvalidOptionError);
      expect(await t.h.executors.listExecutors()).to.deep.equal([]);
    });
  });
}
