import { InvalidOptionError } from '@oddjob/core';
import { ProgramRefusedError } from './errors.js';

/** What per-job arguments an entry lets a stored job add after its fixed `args`. */
export interface ArgumentRules {
  /** Flags a job may pass, exactly (`--full`), or as `--flag=value` whose value must match `pattern`. */
  readonly flags?: readonly string[];
  /** Every argument that is not an allowed flag must match this (anchored by the check). Without it, only flags. */
  readonly pattern?: RegExp;
  /** At most this many per-job arguments. Default 0 when no rules are given, else 16. */
  readonly maxCount?: number;
}

/** One program the executor may run, chosen by the application, never by storage. */
export interface ProgramEntry {
  /** The executable: an absolute path (preferred) or a name looked up on the executor's PATH. */
  readonly executable: string;
  /** Fixed arguments, always passed first. */
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Environment set for the program. */
  readonly env?: Readonly<Record<string, string>>;
  /** Pass the executor's whole environment through (default false: only PATH, HOME, LANG, TZ and `env`). */
  readonly inheritEnv?: boolean;
  /** What a job may add. Absent: no per-job arguments at all. */
  readonly vary?: ArgumentRules;
  /** Names of environment variables a job may set. Absent: none. */
  readonly allowEnv?: readonly string[];
  /** Default timeout of one run (ms). A job may ask for less, never more. Default 300000. */
  readonly timeoutMs?: number;
  /** Exit codes that mean success. Default [0]. */
  readonly successExitCodes?: readonly number[];
  /** Exit codes that fail the job without retrying. Default []. */
  readonly noRetryExitCodes?: readonly number[];
  /** Between SIGTERM and SIGKILL to the process group (ms). Default 5000. */
  readonly killGraceMs?: number;
}

export type AllowList = Readonly<Record<string, ProgramEntry>>;

/** What a stored job may choose, on top of the entry's name and its arguments. */
export interface ProgramJobOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly successExitCodes?: readonly number[];
  readonly noRetryExitCodes?: readonly number[];
}

/** Everything needed to spawn: resolved from the allow-list, never taken from storage unchecked. */
export interface Invocation {
  readonly name: string;
  readonly executable: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly extendEnv: boolean;
  readonly timeoutMs: number;
  readonly successExitCodes: readonly number[];
  readonly noRetryExitCodes: readonly number[];
  readonly killGraceMs: number;
}

const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_ARG_LENGTH = 4096;
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ'];

/** Checks an allow-list once, at registration, so a bad configuration fails at startup, not per job. */
export function checkAllowList(list: AllowList): AllowList {
  if (list === null || typeof list !== 'object')
    throw new InvalidOptionError('allowList', 'must be an object of entries');
  const copy: Record<string, ProgramEntry> = {};
  for (const [name, entry] of Object.entries(list)) {
    if (!ENTRY_NAME.test(name))
      throw new InvalidOptionError(`allowList.${name}`, `entry names must match ${ENTRY_NAME}`);
    if (typeof entry?.executable !== 'string' || entry.executable.length === 0) {
      throw new InvalidOptionError(`allowList.${name}.executable`, 'must be a non-empty string');
    }
    for (const key of ['timeoutMs', 'killGraceMs'] as const) {
      const v = entry[key];
      if (v !== undefined && !(Number.isInteger(v) && v > 0))
        throw new InvalidOptionError(`allowList.${name}.${key}`, 'must be a positive integer');
    }
    for (const n of entry.allowEnv ?? []) {
      if (!ENV_NAME.test(n))
        throw new InvalidOptionError(`allowList.${name}.allowEnv`, `"${n}" is not an environment variable name`);
    }
    copy[name] = Object.freeze({ ...entry });
  }
  return Object.freeze(copy);
}

/**
 * Turns a stored (name, args, options) into an Invocation, or refuses it. Every value read from the
 * job is checked for shape as well as permission: storage may hold anything.
 */
export function resolveInvocation(list: AllowList, name: unknown, args: unknown, options: unknown): Invocation {
  if (typeof name !== 'string') throw new ProgramRefusedError(String(name), 'the program name must be a string');
  if (name.includes('/') || name.includes('\\')) {
    throw new ProgramRefusedError(name, 'a job names an allow-list entry, never an executable path');
  }
  if (!Object.prototype.hasOwnProperty.call(list, name)) {
    throw new ProgramRefusedError(
      name,
      `no such entry in this executor's allow-list (known: ${Object.keys(list).join(', ') || 'none'})`,
    );
  }
  const entry = list[name];
  const jobArgs = checkArgs(name, entry.vary, args ?? []);
  const opts = checkOptions(name, options ?? {});
  const env: Record<string, string> = {};
  if (entry.inheritEnv !== true) {
    for (const k of BASE_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  }
  Object.assign(env, entry.env);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!(entry.allowEnv ?? []).includes(k))
      throw new ProgramRefusedError(name, `the job may not set environment variable ${k}`);
    if (typeof v !== 'string') throw new ProgramRefusedError(name, `environment variable ${k} must be a string`);
    env[k] = v;
  }
  const maxTimeout = entry.timeoutMs ?? 300_000;
  if (opts.timeoutMs !== undefined && opts.timeoutMs > maxTimeout) {
    throw new ProgramRefusedError(name, `timeoutMs ${opts.timeoutMs} is over the entry's ${maxTimeout}`);
  }
  return {
    name,
    executable: entry.executable,
    args: [...(entry.args ?? []), ...jobArgs],
    cwd: entry.cwd,
    env,
    extendEnv: entry.inheritEnv === true,
    timeoutMs: opts.timeoutMs ?? maxTimeout,
    successExitCodes: opts.successExitCodes ?? entry.successExitCodes ?? [0],
    noRetryExitCodes: opts.noRetryExitCodes ?? entry.noRetryExitCodes ?? [],
    killGraceMs: entry.killGraceMs ?? 5_000,
  };
}

function checkArgs(name: string, rules: ArgumentRules | undefined, args: unknown): string[] {
  if (!Array.isArray(args)) throw new ProgramRefusedError(name, 'arguments must be an array of strings');
  const max = rules === undefined ? 0 : (rules.maxCount ?? 16);
  if (args.length > max)
    throw new ProgramRefusedError(name, `${args.length} arguments given, the entry allows at most ${max}`);
  return args.map((a: unknown, i) => {
    if (typeof a !== 'string') throw new ProgramRefusedError(name, `argument ${i} must be a string`);
    if (a.length > MAX_ARG_LENGTH || a.includes('\0'))
      throw new ProgramRefusedError(name, `argument ${i} is too long or holds a NUL`);
    if (!allowedArg(rules!, a)) throw new ProgramRefusedError(name, `argument ${i} "${a}" is not allowed by the entry`);
    return a;
  });
}

function allowedArg(rules: ArgumentRules, a: string): boolean {
  const flags = rules.flags ?? [];
  if (flags.includes(a)) return true;
  const full = (s: string): boolean =>
    rules.pattern !== undefined &&
    new RegExp(`^(?:${rules.pattern.source})$`, rules.pattern.flags.replace('g', '')).test(s);
  if (a.startsWith('-')) {
    const eq = a.indexOf('=');
    return eq > 0 && flags.includes(a.slice(0, eq)) && full(a.slice(eq + 1));
  }
  return full(a);
}

function checkOptions(name: string, options: unknown): ProgramJobOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ProgramRefusedError(name, 'options must be an object');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['env', 'timeoutMs', 'successExitCodes', 'noRetryExitCodes'].includes(key))
      throw new ProgramRefusedError(name, `unknown option "${key}"`);
  }
  if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && (o.timeoutMs as number) > 0)) {
    throw new ProgramRefusedError(name, 'timeoutMs must be a positive integer');
  }
  for (const key of ['successExitCodes', 'noRetryExitCodes']) {
    const v = o[key];
    if (v !== undefined && !(Array.isArray(v) && v.every((c) => Number.isInteger(c) && c >= 0 && c <= 255))) {
      throw new ProgramRefusedError(name, `${key} must be an array of exit codes 0..255`);
    }
  }
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env))) {
    throw new ProgramRefusedError(name, 'env must be an object of strings');
  }
  return o;
}
