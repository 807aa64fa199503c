/** The no-op job of the sandbox bench; the executor and every worker thread load this same registry. */
import { JobRegistry } from '@oddjob/core';

export class NoopJob {
  run(_n: number): void {}
}

export const registry = new JobRegistry().register('noop', NoopJob);
