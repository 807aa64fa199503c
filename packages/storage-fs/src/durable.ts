import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageOperationError } from '@oddjob/core';
import { CommitQueue } from './commit-queue.js';
import { fsOps } from './fs-ops.js';

/** The error code of a failed fs call ('ENOENT', 'EEXIST', ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export function isMissing(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

let counter = 0;
const processTag = `${process.pid}-${randomBytes(4).toString('hex')}`;

/** A name in tmp/ no other writer (in this or another process) will pick. */
export function tempName(tmpDir: string): string {
  return join(tmpDir, `${processTag}-${(counter++).toString(36)}`);
}

/**
 * Writes `text` to a fresh file in tmp/ and fsyncs it, so that once it is renamed into place its
 * content is on disk before its name is (the name's directory is fsynced by the caller afterwards).
 */
export async function writeTemp(tmpDir: string, text: string): Promise<string> {
  const path = tempName(tmpDir);
  await writeNewFile(path, text, true);
  return path;
}

/**
 * Creates `path` (which must not exist) holding `text`, fsynced if asked. On any failure — a full
 * disk typically fails the write, leaving an empty or partial file — the file is removed again, so a
 * failed write leaves nothing behind.
 */
export async function writeNewFile(path: string, text: string, sync: boolean): Promise<void> {
  const fh = await fsOps.open(path, 'wx');
  try {
    await fsOps.write(fh, text);
    if (sync) await fsOps.datasync(fh);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlinkQuietly(path);
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Replaces the contents of a file no one else reads yet (a temp file before its rename), keeping its
 * inode, so hard links to it (a unique key's file) stay the same file; fsynced.
 */
export async function rewriteFile(path: string, text: string): Promise<void> {
  const fh = await fsOps.open(path, 'r+');
  try {
    await fh.truncate(0);
    await fsOps.write(fh, text);
    await fsOps.datasync(fh);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export async function unlinkQuietly(path: string): Promise<void> {
  await fsOps.unlink(path).catch(() => undefined);
}

/**
 * One fsync of a directory on a handle of its own, for the rare paths (creating a store, upgrading its
 * layout) that run before the store's DirSyncer exists; it goes to the file system directly, not
 * through the injectable fsOps.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsyncs directories, each through its own CommitQueue (see commit-queue.ts): concurrent callers
 * that changed one directory share its fsyncs, and none is answered by an fsync that began before
 * it asked. Under load this turns N fsyncs of one directory into about two.
 */
export class DirSyncer {
  private readonly dirs = new Map<string, DirState>();
  private closed = false;

  async sync(dir: string): Promise<void> {
    if (this.closed) throw new StorageOperationError('fs', 'sync', `cannot make ${dir} durable: the store is closed`);
    let state = this.dirs.get(dir);
    if (!state) this.dirs.set(dir, (state = new DirState(dir)));
    return state.queue.commit();
  }

  /** fsyncs several directories at once (each shared as above); resolves when all are durable. */
  async syncAll(dirs: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(dirs)].map((d) => this.sync(d)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.dirs.values()].map((s) => s.close()));
    this.dirs.clear();
  }
}

/** One directory: its kept-open handle (fsync on any descriptor of a directory flushes it) and queue. */
class DirState {
  private handle: Promise<FileHandle> | undefined;
  readonly queue = new CommitQueue(() => this.fsync());

  constructor(private readonly dir: string) {}

  private async fsync(): Promise<void> {
    this.handle ??= fsOps.open(this.dir, 'r');
    const fh = await this.handle.catch((err: unknown) => {
      this.handle = undefined;
      throw err;
    });
    await fsOps.sync(fh);
  }

  async close(): Promise<void> {
    await this.queue.settled();
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h.catch(() => undefined))?.close().catch(() => undefined);
  }
}
