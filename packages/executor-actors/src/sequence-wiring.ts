// The shell's `sequences` option: how a starter job (target 'oddjob.sequence') gets the executor's
// SequenceRegistry and an adder for the store it came from. Apart from shell.ts because it is a DI
// concern: the starter is a job class like any other, built through the shell's container factory,
// which here answers it with its dependencies and passes every other class through untouched.
import {
  InvalidOptionError,
  JobQueueAdder,
  registerSequenceStarter,
  SequenceStarter,
  type Clock,
  type IContainerFactory,
  type IJobQueueAdder,
  type IJobQueueManager,
  type IJobScope,
  type IJobWriter,
  type JobClass,
  type JobRegistry,
  type SequenceRegistry,
} from '@oddjob/core';

/** A store that can add jobs: every store here has `adder()`; a bare writer has `insertJobs`. */
type AddingStore = IJobQueueManager &
  Partial<{ adder(options: { registry?: JobRegistry }): IJobQueueAdder<unknown> } & IJobWriter<unknown>>;

/** The adder a starter uses for one store, made once at start-up so a store that cannot add fails then. */
function adderOf(
  store: IJobQueueManager,
  tenant: string | undefined,
  registry: JobRegistry,
  clock: Clock,
): IJobQueueAdder<unknown> {
  const s = store as AddingStore;
  if (typeof s.adder === 'function') return s.adder({ registry });
  if (typeof s.insertJobs === 'function') return new JobQueueAdder(s as IJobWriter<unknown>, { registry, clock });
  throw new InvalidOptionError(
    'sequences',
    `the store${tenant === undefined ? '' : ` of tenant "${tenant}"`} cannot add jobs (it has neither adder() nor insertJobs()), so it cannot start sequences`,
  );
}

/**
 * Registers the starter with the shell's registry and answers the container factory the shell
 * runs jobs with: `containers`, except that the starter class resolves to one starter bound to
 * `sequences` and to each store's adder (picked per run by the job's tenant).
 */
export function withSequences(
  containers: IContainerFactory,
  sequences: SequenceRegistry,
  stores: readonly [string | undefined, IJobQueueManager][],
  registry: JobRegistry,
  clock: Clock,
): IContainerFactory {
  registerSequenceStarter(registry);
  const adders = new Map(stores.map(([tenant, store]) => [tenant ?? '', adderOf(store, tenant, registry, clock)]));
  const starter = SequenceStarter.withDeps({
    sequences,
    adderFor: (tenant) => {
      const adder = adders.get(tenant ?? '');
      // The worker names the tenant of the queue it runs for, and every tenant has an adder.
      if (adder === undefined) throw new InvalidOptionError('tenant', `"${String(tenant)}" has no store in this shell`);
      return adder;
    },
  });
  return { createScope: () => new StarterScope(containers.createScope(), starter) };
}

/** A run's scope: the starter from the shell, everything else from the application's scope. */
class StarterScope implements IJobScope {
  constructor(
    private readonly inner: IJobScope,
    private readonly starter: SequenceStarter,
  ) {}

  resolve<T>(target: JobClass<T>): T {
    return (target as JobClass) === SequenceStarter ? (this.starter as T) : this.inner.resolve(target);
  }

  dispose(): void | Promise<void> {
    return this.inner.dispose();
  }
}

/** Checks the option's shape (a SequenceRegistry from this or another copy of core). */
export function checkSequencesOption(value: SequenceRegistry | undefined): SequenceRegistry | undefined {
  if (value === undefined) return undefined;
  const r: unknown = value; // a JavaScript caller may pass anything
  const fits =
    typeof r === 'object' &&
    r !== null &&
    'get' in r &&
    typeof r.get === 'function' &&
    'names' in r &&
    typeof r.names === 'function';
  if (!fits) throw new InvalidOptionError('sequences', 'must be a SequenceRegistry');
  return value;
}
