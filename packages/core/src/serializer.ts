import { SuperJSON } from 'superjson';
import { CorruptJobError, JobArgumentError, JobResultError } from './errors.js';
import { MAX_RESULT_CHARS } from './history.js';

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
    case 'object':
      break; // null, arrays and objects: walked below
  }
  if (value === null) return false;
  const obj: object = value;
  if (obj instanceof Date) {
    // An Invalid Date would come back as something else (null, or a string), never as it went in.
    if (Number.isNaN(obj.getTime())) throw new JobArgumentError(path, 'an Invalid Date cannot be stored');
    return true;
  }
  if (obj instanceof RegExp || obj instanceof Uint8Array) return true;
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
      const proto: unknown = Object.getPrototypeOf(obj);
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
        throw new JobArgumentError(
          `${path}.__proto__`,
          'a "__proto__" key cannot be stored (prototype pollution risk)',
        );
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

/**
 * The stored envelope of a value the walk checked: superjson's when it holds something JSON bends
 * (`special`), else the same text superjson would write, at a fraction of the cost (enqueue hot path).
 */
function encodeEnvelope(value: unknown, special: boolean): string {
  return special ? codec.stringify(value) : `{"json":${JSON.stringify(value)}}`;
}

/** Serializes a job's arguments; throws JobArgumentError naming the argument position. */
export function serializeArgs(args: readonly unknown[]): string {
  if (!Array.isArray(args)) throw new JobArgumentError('args', 'must be an array');
  let special = false;
  for (let i = 0; i < args.length; i++) {
    if (walk(args[i], `args[${i}]`, [])) special = true;
  }
  return encodeEnvelope(args, special);
}

/**
 * Serializes a job's return value with the arguments' codec (same type fidelity); undefined (a
 * method that returns nothing) is stored as null and costs nothing. Throws JobResultError naming
 * the job when the value cannot be kept or is over MAX_RESULT_CHARS.
 */
export function serializeResult(value: unknown, jobId: string): string | null {
  if (value === undefined) return null;
  let text: string;
  try {
    text = encodeEnvelope(value, walk(value, 'result', []));
  } catch (err) {
    const reason =
      err instanceof JobArgumentError
        ? err.message
        : `it cannot be serialized (${String((err as Error)?.message ?? err)})`;
    throw new JobResultError(jobId, reason);
  }
  if (text.length > MAX_RESULT_CHARS) {
    throw new JobResultError(
      jobId,
      `its serialized form is ${text.length} characters, over the limit of ${MAX_RESULT_CHARS}`,
    );
  }
  return text;
}

/** The value in a stored envelope; throws on text that is not one (callers name the job). */
function decodeEnvelope(text: string): unknown {
  const envelope = JSON.parse(text) as { json?: unknown; meta?: unknown } | null;
  // No "meta": nothing for superjson to restore, so the "json" part is the value as it is.
  return envelope !== null && typeof envelope === 'object' && !('meta' in envelope)
    ? envelope.json
    : codec.deserialize(envelope as never);
}

/** Reads a stored result back (null stays null → undefined); CorruptJobError if it is unreadable. */
export function deserializeResult(text: string | null, jobId: string): unknown {
  if (text === null) return undefined;
  try {
    const value = decodeEnvelope(text);
    if (text.includes('__proto__') && hasProtoKey(value, 0)) throw new Error('it holds a "__proto__" key');
    return value;
  } catch (err) {
    throw new CorruptJobError(jobId, `result is not readable (${(err as Error).message})`, { cause: err });
  }
}

/** Reads stored arguments back; throws CorruptJobError (naming the job) if they are unreadable. */
export function deserializeArgs(text: string, jobId: string): unknown[] {
  let value: unknown;
  try {
    value = decodeEnvelope(text);
  } catch (err) {
    throw new CorruptJobError(jobId, `arguments are not readable (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(value)) {
    throw new CorruptJobError(jobId, 'arguments are not a list');
  }
  // Edited storage can hold a "__proto__" key, which JSON.parse makes an own property: such an object
  // must never reach a job (prototype pollution starts there). The text test keeps the hot path cheap.
  if (text.includes('__proto__') && hasProtoKey(value, 0)) {
    throw new CorruptJobError(
      jobId,
      'arguments hold a "__proto__" key, which is never stored by OddJob (prototype pollution risk)',
    );
  }
  return value;
}

/** Whether `value` or anything inside it has an own "__proto__" key. */
function hasProtoKey(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object' || depth > 1000) return false;
  if (value instanceof Map) {
    for (const [k, v] of value) if (hasProtoKey(k, depth + 1) || hasProtoKey(v, depth + 1)) return true;
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (hasProtoKey(v, depth + 1)) return true;
    return false;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  for (const v of Object.values(value)) if (hasProtoKey(v, depth + 1)) return true;
  return false;
}
