import { SuperJSON } from 'superjson';
import { CorruptJobError, JobArgumentError } from './errors.js';

/**
 * Argument serialization with type fidelity, on superjson (a well-kept codec that already round-trips
 * Date, bigint, Map, Set, undefined, RegExp, NaN/Infinity and -0), taught Buffer and Uint8Array here.
 *
 * superjson would quietly turn a class instance into a plain object and a function into nothing, so
 * every value is first walked (`walk`), which rejects what cannot come back as it went
 * in and names the argument position (e.g. `args[1].items[3]`).
 */
const codec = new SuperJSON();

codec.registerCustom<Buffer, string>(
  {
    isApplicable: (v): v is Buffer => Buffer.isBuffer(v),
    serialize: (v) => v.toString('base64'),
    deserialize: (v) => Buffer.from(v, 'base64'),
  },
  'oddjob.buffer',
);
codec.registerCustom<Uint8Array, string>(
  {
    isApplicable: (v): v is Uint8Array => v instanceof Uint8Array && !Buffer.isBuffer(v),
    serialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
    deserialize: (v) => new Uint8Array(Buffer.from(v, 'base64')),
  },
  'oddjob.uint8array',
);

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor ? `an instance of ${ctor}` : 'an object with a custom prototype';
}

/**
 * Checks `value` and answers whether it needs superjson at all: false when it is plain JSON data
 * (strings, finite numbers, booleans, null, arrays and plain objects of those), which is most job
 * arguments, and which plain JSON.stringify encodes byte for byte as superjson would (superjson adds
 * its `meta` only for values JSON cannot carry).
 */
function walk(value: unknown, path: string, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return !Number.isFinite(value) || Object.is(value, -0);
    case 'bigint':
    case 'undefined':
      return true;
    case 'function':
    case 'symbol':
      throw new JobArgumentError(path, `${describe(value)} cannot be serialized`);
  }
  if (value === null) return false;
  const obj = value as object;
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof Uint8Array) return true;
  if (ancestors.includes(obj)) {
    throw new JobArgumentError(path, 'circular reference: the value contains itself');
  }
  ancestors.push(obj);
  let special = false;
  try {
    if (Array.isArray(obj)) {
      // A hole in a sparse array reads back as null (as in JSON and superjson alike); an explicit
      // undefined element is kept.
      for (let i = 0; i < obj.length; i++) {
        if (i in obj && walk(obj[i], `${path}[${i}]`, ancestors)) special = true;
      }
    } else if (obj instanceof Map) {
      let i = 0;
      for (const [k, v] of obj) {
        walk(k, `${path}<key ${i}>`, ancestors);
        walk(v, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : `<key ${i}>`})`, ancestors);
        i++;
      }
      special = true;
    } else if (obj instanceof Set) {
      let i = 0;
      for (const v of obj) walk(v, `${path}<item ${i++}>`, ancestors);
      special = true;
    } else {
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        throw new JobArgumentError(
          path,
          `${describe(obj)} cannot be serialized with its type; pass plain data (an object, array, Map, Set, Date, ...) instead`,
        );
      }
      if (Object.getOwnPropertySymbols(obj).length > 0) {
        throw new JobArgumentError(path, 'symbol-keyed properties cannot be serialized');
      }
      for (const key of Object.keys(obj)) {
        if (walk((obj as Record<string, unknown>)[key], `${path}.${key}`, ancestors)) special = true;
      }
      if (Object.prototype.hasOwnProperty.call(obj, '__proto__')) {
        // Reading such a key back into an object is how prototype pollution starts; superjson refuses it too.
        throw new JobArgumentError(`${path}.__proto__`, 'a "__proto__" key cannot be stored (prototype pollution risk)');
      }
    }
  } finally {
    ancestors.pop();
  }
  return special;
}

/**
 * Checks metadata, which every provider stores as plain JSON (a jsonb column, a JSON file): anything
 * JSON would bend — bigint, Date, Map, Set, undefined, NaN — is refused here, so that no store keeps
 * it differently from another (the memory store would keep a Date, PostgreSQL a string).
 */
export function assertPlainJson(value: unknown, path: string): void {
  if (walk(value, path, [])) {
    throw new JobArgumentError(
      path,
      'must be plain JSON (strings, finite numbers, booleans, null, arrays and plain objects): it is stored as JSON',
    );
  }
}

/** Serializes a job's arguments; throws JobArgumentError naming the argument position. */
export function serializeArgs(args: readonly unknown[]): string {
  if (!Array.isArray(args)) throw new JobArgumentError('args', 'must be an array');
  let special = false;
  for (let i = 0; i < args.length; i++) {
    if (walk(args[i], `args[${i}]`, [])) special = true;
  }
  // Plain JSON data: the same text superjson would write, at a fraction of the cost (enqueue hot path).
  return special ? codec.stringify(args) : `{"json":${JSON.stringify(args)}}`;
}

/** Reads stored arguments back; throws CorruptJobError (naming the job) if they are unreadable. */
export function deserializeArgs(text: string, jobId: string): unknown[] {
  let value: unknown;
  try {
    // No "meta": nothing for superjson to restore, so the "json" part is the value as it is.
    const envelope = JSON.parse(text) as { json?: unknown; meta?: unknown } | null;
    value = envelope !== null && typeof envelope === 'object' && !('meta' in envelope) ? envelope.json : codec.deserialize(envelope as never);
  } catch (err) {
    throw new CorruptJobError(jobId, `arguments are not readable (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(value)) {
    throw new CorruptJobError(jobId, 'arguments are not a list');
  }
  return value;
}
