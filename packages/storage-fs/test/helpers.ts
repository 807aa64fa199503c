import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@oddjob/core';
import { FileJobStore } from '../src/index.js';

/** A fresh directory under the OS temp dir; each test gets its own. */
export async function tempDir(prefix = 'oddjob-fs-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A new store in a fresh directory, created for the test. */
export async function freshStore(options: { clock?: Clock; retention?: false } = {}): Promise<{ store: FileJobStore; dir: string }> {
  const dir = await tempDir();
  const store = await FileJobStore.open({ dir, create: true, retention: false, ...options });
  return { store, dir };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
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
