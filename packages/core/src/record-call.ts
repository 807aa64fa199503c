import { InvalidOptionError } from './errors.js';

/** The method and evaluated arguments captured from `(j) => j.method(a, b)`. */
export interface RecordedCall {
  method: string;
  args: unknown[];
}

/**
 * A function that calls one method on the job instance. TypeScript checks the method name and the
 * arguments against the class, which is the point: `addJob(EmailJob, (j) => j.send('a@b.c'))` fails
 * to compile if `send` changes its signature.
 */
export type CallRecorder<T> = (job: T) => unknown;

/**
 * Runs the recorder against a proxy that remembers the first method called and its arguments. The
 * arguments are evaluated by the caller's code right here, at enqueue time, which is what gets stored.
 */
export function recordCall<T>(recorder: CallRecorder<T>): RecordedCall {
  let recorded: RecordedCall | undefined;
  let extra = false;
  const proxy = new Proxy(Object.create(null) as object, {
    get(_t, prop) {
      if (typeof prop !== 'string') return undefined;
      // `then` is probed when someone awaits the proxy; answering it would make it thenable.
      if (prop === 'then') return undefined;
      return (...args: unknown[]) => {
        if (recorded !== undefined) extra = true;
        else recorded = { method: prop, args };
        return undefined;
      };
    },
  });
  if (typeof recorder !== 'function') {
    throw new InvalidOptionError('call', 'must be a function such as (j) => j.method(arg1, arg2)');
  }
  recorder(proxy as T);
  if (recorded === undefined) {
    throw new InvalidOptionError(
      'call',
      'the function must call exactly one method of the job, e.g. (j) => j.send(to)',
    );
  }
  if (extra) {
    throw new InvalidOptionError('call', `the function called more than one method (first: "${recorded.method}")`);
  }
  return recorded;
}
