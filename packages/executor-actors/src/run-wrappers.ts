import type { ClaimedJob } from '@oddjob/core';

/**
 * Code that runs *around* each in-process run, inside the same async context as the job's method:
 * call `run()` and return what it returns. Tracing uses it to make the run's span the active
 * context, so spans the job makes itself are its children. (Events are told beside a run, not
 * around it, so they cannot do this.)
 */
export type RunWrapper = (job: ClaimedJob, run: () => unknown) => unknown;

/**
 * The shell's wrappers, composed in the order added (the first is outermost). With none, a run
 * pays one length check.
 */
export class RunWrappers {
  private list: RunWrapper[] = [];

  add(wrapper: RunWrapper): () => void {
    this.list = [...this.list, wrapper];
    return () => {
      this.list = this.list.filter((w) => w !== wrapper);
    };
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** `run` inside every wrapper. A wrapper that throws fails the run like the job's own error would. */
  wrap(job: ClaimedJob, run: () => unknown): unknown {
    const list = this.list;
    // One wrapper (tracing's, usually) is called directly: no closure per run.
    if (list.length === 1) return list[0](job, run);
    let inner = run;
    for (let i = list.length - 1; i >= 0; i--) {
      const wrapper = list[i];
      const next = inner;
      inner = () => wrapper(job, next);
    }
    return inner();
  }
}
