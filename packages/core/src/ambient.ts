import type { IJobQueueAdder, JobSpec } from './adder.js';
import { isArray } from './checks/is-array.js';
import { InvalidOptionError, JobArgumentError, OddJobError } from './errors.js';
import type { JobCall, JobMetadata, JobOptions } from './job.js';
import type { CallRecorder } from './record-call.js';
import type { JobClass } from './registry.js';
import { assertPlainJson } from './serializer.js';

/**
 * The key under which OddJob keeps its own data in a job's metadata. User metadata may use every
 * other key; `metadata.oddjob.ambient` is the captured ambient context. (`metadata.oddjob.firstAttempt`
 * was written by immediate runs before insertAttempted existed; nothing reads it now.)
 */
export const ODDJOB_METADATA_KEY = 'oddjob';

/** Raised when the captured ambient value cannot be stored (it is not plain JSON). */
export class AmbientContextError extends OddJobError {}

/**
 * How to carry the application's ambient context (the current user, tenant, correlation id — what an
 * AsyncLocalStorage holds during a request) from enqueue to every run of the job:
 *   capture: read at enqueue; undefined means "nothing to carry" and stores nothing.
 *   restore: wraps each run: call `run()` inside your context and return what it returns.
 */
export interface AmbientContext<T = unknown> {
  capture(): T | undefined;
  restore<R>(value: T, run: () => R): R;
}

/** Checks and freezes the pair, so a typo (a missing function) fails at setup, not at the first job. */
export function ambientContext<T>(spec: AmbientContext<T>): AmbientContext<T> {
  if (spec === null || typeof spec !== 'object')
    throw new InvalidOptionError('ambient', 'must be { capture, restore }');
  if (typeof spec.capture !== 'function')
    throw new InvalidOptionError('ambient.capture', 'must be a function returning the value to store');
  if (typeof spec.restore !== 'function')
    throw new InvalidOptionError('ambient.restore', 'must be a function (value, run) => run() inside the context');
  return Object.freeze({ capture: spec.capture.bind(spec), restore: spec.restore.bind(spec) });
}

/** OddJob's own part of a job's metadata (an object), or an empty one. */
export function oddjobMetadata(metadata: Readonly<JobMetadata> | undefined): Record<string, unknown> {
  const own = metadata?.[ODDJOB_METADATA_KEY];
  return own !== null && typeof own === 'object' && !Array.isArray(own) ? (own as Record<string, unknown>) : {};
}

/** The ambient value stored with a job, or undefined when none was captured. */
export function storedAmbient(metadata: Readonly<JobMetadata> | undefined): unknown {
  return oddjobMetadata(metadata).ambient;
}

/**
 * Returns the options with the captured ambient value added under `metadata.oddjob.ambient`. Refuses
 * (AmbientContextError) a value that is not plain JSON: it is stored as JSON by every provider and a
 * Date or a Map would come back as something else in the run.
 */
export function withCapturedAmbient<O extends JobOptions>(
  ambient: AmbientContext,
  options: O | undefined,
): O | undefined {
  const value = ambient.capture();
  if (value === undefined) return options;
  try {
    assertPlainJson(value, 'ambient');
  } catch (err) {
    const why = err instanceof JobArgumentError ? err.message : String(err);
    throw new AmbientContextError(`the captured ambient context cannot be stored with the job: ${why}`);
  }
  const metadata = options?.metadata ?? {};
  const own = metadata[ODDJOB_METADATA_KEY];
  if (own !== undefined && (own === null || typeof own !== 'object' || Array.isArray(own))) {
    throw new InvalidOptionError(
      `metadata.${ODDJOB_METADATA_KEY}`,
      'is reserved for OddJob (an object); use another key',
    );
  }
  return {
    ...(options ?? ({} as O)),
    metadata: { ...metadata, [ODDJOB_METADATA_KEY]: { ...own, ambient: value } },
  };
}

/**
 * An adder that captures the ambient context at every enqueue and stores it with the job; every
 * other behaviour (validation, transactions, batches) is the wrapped adder's.
 */
export function withAmbient<Tx>(adder: IJobQueueAdder<Tx>, ambient: AmbientContext): IJobQueueAdder<Tx> {
  if (typeof adder?.addJob !== 'function')
    throw new InvalidOptionError('adder', 'must be an IJobQueueAdder (store.adder())');
  const checked = ambientContext(ambient);
  function addJob<T>(target: JobClass<T>, call: CallRecorder<T>, options?: JobOptions & { tx?: Tx }): Promise<string>;
  function addJob(call: JobCall, options?: JobOptions & { tx?: Tx }): Promise<string>;
  function addJob(a: JobClass | JobCall, b?: unknown, c?: JobOptions & { tx?: Tx }): Promise<string> {
    try {
      if (typeof a === 'function') return adder.addJob(a, b as CallRecorder<unknown>, withCapturedAmbient(checked, c));
      return adder.addJob(a, withCapturedAmbient(checked, b as (JobOptions & { tx?: Tx }) | undefined));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return {
    addJob,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    addJobs(specs: readonly JobSpec<any>[], options?: { tx?: Tx }): Promise<string[]> {
      try {
        if (!isArray(specs)) throw new InvalidOptionError('specs', 'must be an array');
        // One capture for the batch: it is one enqueue, made in one context.
        const value = checked.capture();
        const once: AmbientContext = { capture: () => value, restore: (v, run) => checked.restore(v, run) };
        return adder.addJobs(
          specs.map((s) => ({ ...s, options: withCapturedAmbient(once, s.options) })),
          options,
        );
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
