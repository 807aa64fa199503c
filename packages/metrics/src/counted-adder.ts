import type { IJobQueueAdder, JobRegistry } from '@oddjob/core';
import type { Registry } from 'prom-client';
import { wrapAdder } from './adders.js';
import { enqueuedCounter } from './metrics.js';

/**
 * An adder that counts what it wrote in `oddjob_jobs_enqueued_total{queue,target}` of `registry`.
 * Counted after the write succeeded; a job whose unique key was taken still counts (the store
 * answers the holder's id, and the adder cannot tell the two apart).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function countedAdder<A extends IJobQueueAdder<any>>(
  adder: A,
  registry: Registry,
  jobRegistry?: JobRegistry,
): A {
  const counter = enqueuedCounter(registry);
  return wrapAdder(
    adder,
    async (call, write) => {
      const ids = await write(call.specs);
      for (const l of call.labels) counter.inc(l);
      return ids;
    },
    jobRegistry,
  );
}
