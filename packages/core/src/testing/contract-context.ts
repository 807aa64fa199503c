import type { IJobQueueAdmin } from '../admin.js';
import type { IJobWriter, JobQueueAdder } from '../adder.js';
import type { IAttemptedJobWriter } from '../attempted.js';
import type { IExecutorRegistry } from '../executors.js';
import type { ClaimedJob, JobCall, JobLease, JobOptions } from '../job.js';
import type { IJobQueueManager, JobOutcome, LeaseCheck } from '../manager.js';
import type { IScheduleStore } from '../schedule-store.js';
import type { TestClock } from './test-clock.js';

/** What a provider hands the contract suite: one fresh, empty, isolated store per test. */
export interface ContractHarness {
  /**
   * Without a transaction: the suite never has one (any store's IJobWriter<Tx> fits). Also the
   * writer of jobs whose attempt 1 already ran (insertAttempted).
   */
  writer: IJobWriter<never> & IAttemptedJobWriter;
  manager: IJobQueueManager;
  admin: IJobQueueAdmin;
  schedules: IScheduleStore;
  executors: IExecutorRegistry;
  /**
   * Makes the stored arguments of a job unreadable, the way a bad write or a hand edit would (e.g.
   * `UPDATE ... SET args = '{not json'`). The suite checks the job can still be claimed and failed.
   */
  corruptJobArgs(jobId: string): Promise<void>;
  /** Closes connections and removes what the test created (schema, directory). */
  close(): Promise<void>;
}

/** Builds a store whose every notion of "now" comes from `clock`. */
export type HarnessFactory = (clock: TestClock) => Promise<ContractHarness>;

export const LEASE = 30_000;
export const call = (n: number | string = 0, target = 't'): JobCall => ({ target, method: 'run', args: [n] });
export const err = (message: string) => ({ name: 'Error', message });

/**
 * What each part of the suite works with: the current test's store, clock and adder (renewed before
 * every test) and the small helpers every part uses.
 */
export interface ContractContext {
  clock: TestClock;
  h: ContractHarness;
  adder: JobQueueAdder<never>;
  add(n?: number | string, options?: JobOptions): Promise<string>;
  claim(limit?: number, owner?: string, queues?: string[], leaseMs?: number): Promise<ClaimedJob[]>;
  leaseOf(j: ClaimedJob): JobLease;
  record(...outcomes: JobOutcome[]): Promise<LeaseCheck[]>;
  argOf(j: { args: string; id: string }): unknown;
}

/** What `promise` rejected with; fails the test if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
