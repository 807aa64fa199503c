import { SuperJSON } from 'superjson';
import { CorruptJobError, JobArgumentError } from './errors.js';

/**
 * Argument serialization with type fidelity, on superjson (a well-kept codec that already round-trips
 * Date, bigint, Map, Set, undefined, RegExp, NaN/Infinity and -0), taught Buffer and Uint8Array here.
 *
 * superjson would quietly turn a class instance into a plain object and a function into nothing, so
 * every value is first walked by `assertSerializable`, which rejects what cannot come back as it went
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

function walk(value: unknown, path: string, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return;
    case 'function':
    case 'symbol':
      throw new JobArgumentError(path, `${describe(value)} cannot be serialized`);
  }
  if (value === null) return;
  const obj = value as object;
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof Uint8Array) return;
  if (ancestors.includes(obj)) {
    throw new JobArgumentError(path, 'circular reference: the value contains itself');
  }
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) {
      obj.forEach((v, i) => walk(v, `${path}[${i}]`, ancestors));
    } else if (obj instanceof Map) {
      let i = 0;
      for (const [k, v] of obj) {
        walk(k, `${path}<key ${i}>`, ancestors);
        walk(v, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : `<key ${i}>`})`, ancestors);
        i++;
      }
    } else if (obj instanceof Set) {
      let i = 0;
      for (const v of obj) walk(v, `${path}<item ${i++}>`, ancestors);
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
        walk((obj as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
      }
    }
  } finally {
    ancestors.pop();
  }
}

/** Throws JobArgumentError naming the first value (by path) that would not survive storage. */
export function assertSerializable(value: unknown, path: string): void {
  walk(value, path, []);
}

/** Serializes a job's arguments; throws JobArgumentError naming the argument position. */
export function serializeArgs(args: readonly unknown[]): string {
  if (!Array.isArray(args)) throw new JobArgumentError('args', 'must be an array');
  args.forEach((a, i) => walk(a, `args[${i}]`, []));
  return codec.stringify(args);
}

/** Reads stored arguments back; throws CorruptJobError (naming the job) if they are unreadable. */
export function deserializeArgs(text: string, jobId: string): unknown[] {
  let value: unknown;
  try {
    value = codec.parse(text);
  } catch (err) {
    throw new CorruptJobError(jobId, `arguments are not readable (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(value)) {
    throw new CorruptJobError(jobId, 'arguments are not a list');
  }
  return value;
}

/** Serializes metadata (plain JSON: no type fidelity promised); throws JobArgumentError on bad values. */
export function serializeMetadata(metadata: Record<string, unknown>): string {
  walk(metadata, 'metadata', []);
  return JSON.stringify(metadata, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
