import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobRegistry, type JobContext, type JobLogger, type JobProgress } from '@oddjob/core';
import {
  registerPrograms,
  PROGRAM_TARGET,
  type AllowList,
  type ProgramsOptions,
  type ProgramResult,
} from '../src/index.js';

export interface Line {
  level: string;
  msg: string;
}

/** A JobContext as the executor hands it, recording what the program target does with it. */
export class RecordingContext implements JobContext {
  readonly controller = new AbortController();
  readonly lines: Line[] = [];
  readonly progress: JobProgress[] = [];
  readonly queue = 'programs';
  readonly attempt = 1;
  readonly maxAttempts = 1;
  readonly metadata = {};
  constructor(readonly jobId = `job-${Math.random().toString(36).slice(2)}`) {}
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get logger(): JobLogger {
    const add = (level: string) => (_obj: object, msg?: string) => void this.lines.push({ level, msg: msg ?? '' });
    return { debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
  }
  async reportProgress(p: JobProgress): Promise<boolean> {
    this.progress.push(p);
    return true;
  }
  log(...parts: unknown[]): void {
    this.lines.push({ level: 'info', msg: parts.map(String).join(' ') });
  }
  logAt(level: string, ...parts: unknown[]): void {
    this.lines.push({ level, msg: parts.map(String).join(' ') });
  }
}

/** Runs `name` through a freshly registered program target, as the executor would call it. */
export function runner(list: AllowList, options?: ProgramsOptions) {
  const registry = new JobRegistry();
  registerPrograms(registry, list, options);
  const Target = registry.resolveTarget(PROGRAM_TARGET) as new () => {
    run(name: unknown, args: unknown, opts: unknown, ctx?: JobContext): Promise<ProgramResult>;
  };
  return (name: unknown, args: unknown = [], opts: unknown = {}, ctx = new RecordingContext()) =>
    new Target().run(name, args, opts, ctx);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'oddjob-programs-'));
}

/** Whether a pid is a live process (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The built reporter module, for node programs that import it by absolute URL. */
export const reporterUrl = new URL('../src/reporter.js', import.meta.url).href;
export const reporterPath = fileURLToPath(reporterUrl);
