import type { IJobQueueAdmin } from '../admin.js';
import type { IJobWriter } from '../adder.js';
import type { IJobQueueManager } from '../manager.js';
import type { IScheduleStore } from '../schedule-store.js';
import type { TestClock } from './test-clock.js';

/** What a provider hands the contract suite: one fresh, empty, isolated store per test. */
export interface ContractHarness {
  writer: IJobWriter<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  manager: IJobQueueManager;
  admin: IJobQueueAdmin;
  schedules: IScheduleStore;
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

export function describeStorageContract(_name: string, _create: HarnessFactory): void {
  throw new Error('not written yet');
}
