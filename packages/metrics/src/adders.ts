import type { CallRecorder, IJobQueueAdder, JobCall, JobClass, JobOptions, JobSpec } from '@oddjob/core';
import { DEFAULT_QUEUE, defaultRegistry, isArray, type JobRegistry } from '@oddjob/core';

type AnyAdder = IJobQueueAdder<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One addJob/addJobs call, normalised: what the wrappers below look at and may change. */
export interface AddCall {
  specs: JobSpec<unknown>[];
  /** For each spec, its queue and target name (as the store will record them, when resolvable). */
  labels: { queue: string; target: string }[];
}

function labelOf(spec: JobSpec<unknown>, registry: JobRegistry): { queue: string; target: string } {
  const queue = spec.options?.queue ?? DEFAULT_QUEUE;
  if ('target' in spec && typeof spec.target === 'function') {
    let target: string;
    try {
      target = registry.nameOf(spec.target as JobClass);
    } catch {
      target = spec.target.name; // the adder will refuse it anyway; a label must not throw first
    }
    return { queue, target };
  }
  const call = spec.call as JobCall | undefined;
  return { queue, target: typeof call?.target === 'string' ? call.target : '' };
}

/**
 * Wraps an adder so that `around` sees (and may change) every call before it is written, and is told
 * the ids after. Both addJob forms and addJobs go through one path, so the wrappers stay small.
 */
export function wrapAdder<A extends AnyAdder>(
  adder: A,
  around: (call: AddCall, write: (specs: JobSpec<unknown>[]) => Promise<string[]>) => Promise<string[]>,
  registry: JobRegistry = defaultRegistry,
): A {
  const write = (specs: JobSpec<unknown>[], tx: unknown): Promise<string[]> => {
    if (specs.length === 1) {
      const s = specs[0];
      const options = tx === undefined ? s.options : { ...s.options, tx };
      const one =
        'target' in s && typeof s.target === 'function'
          ? adder.addJob(s.target, s.call, options as JobOptions & { tx?: never })
          : adder.addJob(s.call as JobCall, options as JobOptions & { tx?: never });
      return one.then((id) => [id]);
    }
    return adder.addJobs(specs, tx === undefined ? {} : { tx: tx as never });
  };
  const wrapped = {
    // Arrow functions: the proxy below hands them out on their own (they use no `this`).
    addJob: async (a: JobClass | JobCall, b?: unknown, c?: unknown): Promise<string> => {
      const typed = typeof a === 'function';
      const raw = (typed ? c : b) as (JobOptions & { tx?: unknown }) | undefined;
      const { tx, ...options } = raw ?? {};
      const spec: JobSpec<unknown> = typed
        ? { target: a, call: b as CallRecorder<unknown>, options }
        : { call: a, options };
      const specs = [spec];
      const [id] = await around({ specs, labels: specs.map((s) => labelOf(s, registry)) }, (s) => write(s, tx));
      return id;
    },
    addJobs: async (specs: readonly JobSpec<unknown>[], options: { tx?: unknown } = {}): Promise<string[]> => {
      if (!isArray(specs) || specs.length === 0) return adder.addJobs(specs, options);
      const copy = [...specs];
      return around({ specs: copy, labels: copy.map((s) => labelOf(s, registry)) }, (s) => adder.addJobs(s, options));
    },
  };
  // Everything else the provider's adder offers (its own helpers) stays reachable.
  return new Proxy(adder, {
    get(target, key, receiver) {
      if (key === 'addJob' || key === 'addJobs') return wrapped[key];
      return Reflect.get(target, key, receiver);
    },
  });
}
