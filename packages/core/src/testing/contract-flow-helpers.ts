import { expect } from 'chai';
import type { JobOptions, JobRecord } from '../job.js';
import type { JobStatus } from '../status.js';
import { call, LEASE, type ContractContext } from './contract-context.js';

/** The small vocabulary the dependency, key and priority parts of the contract share. */
export function flowHelpers(t: ContractContext) {
  const get = async (id: string): Promise<JobRecord> => {
    const job = await t.h.admin.getJob(id);
    expect(job, `job ${id}`).to.not.equal(null);
    return job!;
  };
  const claimAll = (queues = ['default']) =>
    t.h.manager.claimJobs({ queues, limit: 100, owner: 'flow-owner', leaseMs: LEASE });
  /** Claims the job (it must be claimable now) and ends it as `kind`. */
  const finish = async (id: string, kind: 'done' | 'failed' | 'retry', queues = ['default']) => {
    const claimed = await claimAll(queues);
    const job = claimed.find((j) => j.id === id);
    expect(job, `job ${id} is claimable`).to.not.equal(undefined);
    // Give back whatever else the claim took, unrun, so each test decides only what it names.
    const others = claimed.filter((j) => j.id !== id).map((j) => ({ kind: 'released' as const, lease: t.leaseOf(j) }));
    const lease = t.leaseOf(job!);
    const error = { name: 'Error', message: 'boom' };
    const outcome =
      kind === 'done'
        ? { kind, lease }
        : kind === 'failed'
          ? { kind, lease, error }
          : { kind, lease, error, runAt: new Date(t.clock.now().getTime() + 60_000) };
    expect(await t.record(outcome, ...others)).to.deep.equal(['ok', ...others.map(() => 'ok')]);
  };
  const status = async (id: string): Promise<JobStatus> => (await get(id)).status;
  const statuses = async (...ids: string[]): Promise<JobStatus[]> => Promise.all(ids.map(status));
  const addWith = (n: number | string, options: JobOptions) => t.adder.addJob(call(n), options);
  return { get, claimAll, finish, status, statuses, addWith };
}
