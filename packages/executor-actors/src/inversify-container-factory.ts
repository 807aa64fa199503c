import { defaultRegistry, type IContainerFactory, type IJobScope, type JobClass, type JobRegistry } from '@oddjob/core';
import { Container } from 'inversify';

export interface InversifyContainerFactoryOptions {
  /** Targets registered here are bound to themselves (transient) if the container has no binding. Default: core's defaultRegistry. */
  registry?: JobRegistry;
  /**
   * Bindings that must differ per run (a per-job unit of work, a tenant-bound connection). When given,
   * every run gets a child container `new Container({ parent })` with these bindings, disposed after
   * the run. It costs about 150x a root resolution (DESIGN §5), so leave it out unless a job needs it.
   */
  perRunBindings?: (child: Container) => void;
}

/**
 * Resolves job targets with inversify 8.
 *
 * By default each run resolves from the root container: a target (or dependency) bound in transient
 * or request scope is a fresh instance per run, a singleton is shared, and no container is created
 * per job. The JobContext reaches the job as its trailing argument, not through DI, so nothing
 * per-run needs binding in the common case.
 */
export class InversifyContainerFactory implements IContainerFactory {
  private readonly registry: JobRegistry;
  /** Classes known to be resolvable, so the isBound check runs once per class, not per job. */
  private readonly bound = new Set<JobClass>();
  private readonly rootScope: IJobScope;

  constructor(
    private readonly container: Container,
    private readonly options: InversifyContainerFactoryOptions = {},
  ) {
    this.registry = options.registry ?? defaultRegistry;
    for (const name of this.registry.names()) this.ensureBound(this.registry.resolveTarget(name));
    this.rootScope = Object.freeze({
      resolve: <T>(target: JobClass<T>): T => {
        this.ensureBound(target);
        return this.container.get<T>(target);
      },
      dispose: () => undefined,
    });
  }

  createScope(): IJobScope {
    const perRun = this.options.perRunBindings;
    if (perRun === undefined) return this.rootScope;
    const child = new Container({ parent: this.container });
    perRun(child);
    return {
      resolve: <T>(target: JobClass<T>): T => {
        this.ensureBound(target);
        return child.get<T>(target);
      },
      // unbindAll runs deactivation (@preDestroy) of what the child created.
      dispose: () => child.unbindAllAsync(),
    };
  }

  /** Binds a target to itself in transient scope unless the application bound it already. */
  private ensureBound(target: JobClass): void {
    if (this.bound.has(target)) return;
    if (!this.container.isBound(target)) this.container.bind(target).toSelf().inTransientScope();
    this.bound.add(target);
  }
}
