import type { JobClass } from './registry.js';

/** A DI scope for one job run: resolves the job's class (and through it, its dependencies). */
export interface IJobScope {
  resolve<T>(target: JobClass<T>): T;
  /** Releases per-run resources. Called after the run, whatever its outcome. */
  dispose(): void | Promise<void>;
}

/** Opens a scope per run. The executor ships an inversify implementation; tests can use `newInstanceFactory`. */
export interface IContainerFactory {
  createScope(): IJobScope;
}

/** Constructs targets with `new` and no arguments: for jobs without dependencies, and tests. */
export const newInstanceFactory: IContainerFactory = Object.freeze({
  createScope: (): IJobScope => ({
    resolve: <T>(target: JobClass<T>): T => new (target as unknown as new () => T)(),
    dispose: () => undefined,
  }),
});
