import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimedJob, Clock, JobLease } from '@oddjob/core';
import { fsOps } from '../src/fs-ops.js';
import { FileJobStore, type StoreProblem } from '../src/index.js';

/** A fresh directory under the OS temp dir; each test gets its own. */
export async function tempDir(prefix = 'oddjob-fs-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A new store in a fresh directory, created for the test. */
export async function freshStore(
  options: { clock?: Clock; retention?: false; onProblem?: (p: StoreProblem) => void; dir?: string } = {},
): Promise<{ store: FileJobStore; dir: string }> {
  const dir = options.dir ?? (await tempDir());
  const store = await FileJobStore.open({ dir, create: true, retention: false, ...options });
  return { store, dir };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Closes a store that freshStore made and removes its directory (a test's afterEach). */
export async function discardStore({ store, dir }: { store: FileJobStore; dir: string }): Promise<void> {
  await store.close();
  await removeDir(dir);
}

/** What `p` rejects with; throws if it resolves, so a test cannot pass by the call succeeding. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

/** Every job file of a store, as `<queue>/<state>/<name>` (for tests that look at the layout). */
export async function jobFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const q of await readdir(join(dir, 'queues'))) {
    for (const s of await readdir(join(dir, 'queues', q))) {
      for (const f of await readdir(join(dir, 'queues', q, s))) out.push(`${q}/${s}/${f}`);
    }
  }
  return out;
}

/**
 * Replaces the stored args of a job with text superjson cannot read, keeping the file otherwise
 * valid (as a bad write by an older version or a hand edit would). Written like the store writes:
 * a temp file renamed over the job's file.
 */
export async function corruptJobArgs(dir: string, jobId: string): Promise<void> {
  for (const path of await jobFiles(dir)) {
    if (!path.includes(jobId)) continue;
    const file = join(dir, 'queues', path);
    const content = JSON.parse(await readFile(file, 'utf8')) as { args: string };
    content.args = '{not json';
    const tmp = join(dir, 'tmp', `corrupt-${jobId}`);
    await writeFile(tmp, JSON.stringify(content));
    await rename(tmp, file);
    return;
  }
  throw new Error(`no file for job ${jobId}`);
}

/** An error shaped like the ones Node's fs gives, for injecting a disk condition. */
export function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const text: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EACCES: 'permission denied',
    EIO: 'i/o error',
    EMFILE: 'too many open files',
  };
  const err = new Error(
    `${code}: ${text[code] ?? 'failed'}, ${syscall}${path ? ` '${path}'` : ''}`,
  ) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

/** Which calls to fail: each rule sees the path(s) and answers an error to throw, or null to go ahead. */
export interface Faults {
  open?: (path: string, flags: string | number) => NodeJS.ErrnoException | null;
  /** The body write of a file (temp files, reason files), by the path it was opened with. */
  write?: (path: string) => NodeJS.ErrnoException | null;
  rename?: (from: string, to: string) => NodeJS.ErrnoException | null;
  readdir?: (path: string) => NodeJS.ErrnoException | null;
}

/**
 * Makes the store's own fs calls fail (through the seam in src/fs-ops.ts that production code goes
 * through). Returns the function that puts the real calls back; call it in a `finally`.
 */
export function injectFaults(faults: Faults): () => void {
  const saved = { ...fsOps };
  const pathOf = new WeakMap<object, string>();
  fsOps.open = async (path, flags, mode) => {
    const err = faults.open?.(path, flags);
    if (err) throw err;
    const fh = await saved.open(path, flags, mode);
    pathOf.set(fh, path);
    return fh;
  };
  // Job files are read whole through readSmall, which opens them itself: an open fault applies there too.
  fsOps.readSmall = async (path, flags) => {
    const err = faults.open?.(path, flags);
    if (err) throw err;
    return saved.readSmall(path, flags);
  };
  fsOps.write = async (fh, text) => {
    const path = pathOf.get(fh) ?? '';
    const err = faults.write?.(path);
    if (err) {
      // What a full disk does: part of the data may land before the write fails.
      await saved.write(fh, text.slice(0, Math.floor(text.length / 2)));
      throw err;
    }
    return saved.write(fh, text);
  };
  fsOps.rename = async (from, to) => {
    const err = faults.rename?.(from, to);
    if (err) throw err;
    return saved.rename(from, to);
  };
  fsOps.readdir = async (path) => {
    const err = faults.readdir?.(path);
    if (err) throw err;
    return saved.readdir(path);
  };
  return () => Object.assign(fsOps, saved);
}

/** The names in `dir/sub` (none if it is missing), for "nothing left behind" checks. */
export async function filesIn(dir: string, sub: string): Promise<string[]> {
  return readdir(join(dir, sub)).catch(() => []);
}

/** The lease a claimed job's writes are fenced by. */
export const leaseOf = (j: ClaimedJob): JobLease => ({ jobId: j.id, token: j.lease.token });
