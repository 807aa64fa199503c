import { JobQueueAdder } from '../adder.js';
import { deserializeArgs } from '../serializer.js';
import { TestClock } from './test-clock.js';
import { call, LEASE, type ContractContext, type HarnessFactory } from './contract-context.js';
import { describeJobContract } from './contract-jobs.js';
import { describeOutcomeContract } from './contract-outcomes.js';
import { describeAdminContract } from './contract-admin.js';
import { describeDataContract } from './contract-data.js';
import { describeEdgeContract } from './contract-edges.js';
import { describeHistoryContract } from './contract-history.js';
import { describeLogContract } from './contract-logs.js';
import { describeWaitContract } from './contract-waiting.js';
import { describeExecutorContract } from './contract-executors.js';
import { describeAttemptedContract } from './contract-attempted.js';
import { describeAffinityContract } from './contract-affinity.js';
import { describeDependencyContract } from './contract-dependencies.js';
import { describeKeyContract } from './contract-keys.js';
import { describePriorityContract } from './contract-priority.js';

export type { ContractHarness, HarnessFactory } from './contract-context.js';

/**
 * The storage contract: every provider (memory, fs, postgres, sqlserver) runs this against itself,
 * and so can a user's own provider. Each test gets a fresh store from `create`, and every notion of
 * "now" comes from the TestClock it is given, so nothing here sleeps. The parts live in
 * contract-*.ts, one file per concern; contract-edges.ts holds the input edges every store must
 * accept or refuse alike.
 */
export function describeStorageContract(name: string, create: HarnessFactory): void {
  describe(`storage contract: ${name}`, function () {
    const t = {
      add: (n: number | string = 0, options = {}) => t.adder.addJob(call(n), options),
      claim: (limit = 10, owner = 'owner-a', queues = ['default'], leaseMs = LEASE) =>
        t.h.manager.claimJobs({ queues, limit, owner, leaseMs }),
      leaseOf: (j) => ({ jobId: j.id, token: j.lease.token }),
      record: (...outcomes) => t.h.manager.recordOutcomes(outcomes),
      argOf: (j) => deserializeArgs(j.args, j.id)[0],
    } as ContractContext;

    beforeEach(async function () {
      t.clock = new TestClock();
      t.h = await create(t.clock);
      t.adder = new JobQueueAdder(t.h.writer, { clock: t.clock });
    });
    afterEach(async function () {
      await t.h?.close();
    });

    describeJobContract(t);
    describeOutcomeContract(t);
    describeAdminContract(t);
    describeDataContract(t);
    describeEdgeContract(t, name);
    describeHistoryContract(t);
    describeLogContract(t);
    describeWaitContract(t);
    describeExecutorContract(t);
    describeAttemptedContract(t);
    describeAffinityContract(t);
    describeDependencyContract(t);
    describeKeyContract(t);
    describePriorityContract(t);
  });
}
