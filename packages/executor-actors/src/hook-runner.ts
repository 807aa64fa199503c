import type { JobLogger } from '@oddjob/core';

/**
 * Calls a coordinator's hooks so that none can harm the executor: a throw is logged, a returned
 * promise is not awaited by the actor but tracked, its rejection logged, and shutdown waits for it.
 */
export class HookRunner {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly logger: JobLogger,
    private readonly queue: string,
  ) {}

  call(name: string, hook: () => void | Promise<void>): void {
    try {
      const result = hook();
      if (result !== undefined && typeof result.then === 'function') {
        const tracked = Promise.resolve(result).then(
          () => undefined,
          (err: unknown) =>
            this.logger.error({ err, hook: name, queue: this.queue }, 'oddjob: a coordinator hook rejected'),
        );
        this.inFlight.add(tracked);
        void tracked.finally(() => this.inFlight.delete(tracked));
      }
    } catch (err) {
      this.logger.error({ err, hook: name, queue: this.queue }, 'oddjob: a coordinator hook threw');
    }
  }

  /** Resolves when every hook called so far has settled. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
