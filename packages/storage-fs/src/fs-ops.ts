import { closeSync, fstatSync, openSync, readSync, renameSync, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** What `readSmall` found: the entry's stats, and its text when it is a regular file. */
export interface SmallRead {
  stats: Stats;
  text: string | null;
}

/** Files up to this size are read without the thread pool (a job's content is typically under 1 KiB). */
const SMALL_FILE = 64 * 1024;

/**
 * Reads a file whole: open, fstat, one read, close. A job file is never changed in place (new content
 * is renamed over it), so the size the fstat gave is the size; the read asks for one byte more only
 * to see that, and reads again through the thread pool should it have grown anyway (or be large).
 */
async function readSmall(path: string, flags: number): Promise<SmallRead> {
  const fd = openSync(path, flags);
  let stats: Stats;
  try {
    stats = fstatSync(fd);
    if (!stats.isFile()) return { stats, text: null };
    if (stats.size <= SMALL_FILE) {
      const buf = Buffer.allocUnsafe(stats.size + 1);
      const bytesRead = readSync(fd, buf, 0, stats.size + 1, 0);
      if (bytesRead <= stats.size) return { stats, text: buf.toString('utf8', 0, bytesRead) };
    }
  } finally {
    closeSync(fd);
  }
  return { stats, text: await fsp.readFile(path, { encoding: 'utf8', flag: flags }) };
}

/**
 * Every file-system call the store makes on job, key, corrupt and temp files, and every fsync, goes through this one
 * object. Production code uses it as it is; tests swap single functions to make a call fail the way
 * a real disk does (ENOSPC from a write, EACCES from an open) where the real condition cannot be set
 * up (tests run as root, which permission bits do not stop). One property lookup per call costs
 * nothing next to the syscall.
 *
 * Not exported from the package: it is the store's own seam, not an API.
 *
 * Renames and small reads are made synchronously (each still answers a promise, so the seam stays
 * the same). They are the hot path: a claim renames and reads every job it takes, an outcome renames
 * it again. Each is a few tens of microseconds in the page cache, while a trip through Node's thread
 * pool costs more than the call, and the pool's four threads are often all busy in fsyncs, which
 * queue these calls behind them for milliseconds. Measured on the executor end to end (bench/src/fs.ts):
 * a claim of 200 jobs spent 20–40 ms reading their contents through the pool, and 0.3 ms this way.
 * fsyncs, listings and writes stay asynchronous: they can take milliseconds each.
 */
export const fsOps = {
  open: (path: string, flags: string | number, mode?: number): Promise<FileHandle> => fsp.open(path, flags, mode),
  /** The body of every write: temp files, reason files. */
  write: (fh: FileHandle, text: string): Promise<void> => fh.writeFile(text, 'utf8'),
  /** fsync of a directory (after renames into or out of it). */
  sync: (fh: FileHandle): Promise<void> => fh.sync(),
  /** fdatasync of a temp file before it is renamed into place. */
  datasync: (fh: FileHandle): Promise<void> => fh.datasync(),
  rename: async (from: string, to: string): Promise<void> => renameSync(from, to),
  /** A job file's whole text (or its stats only, when it is not a regular file). */
  readSmall,
  link: (existing: string, name: string): Promise<void> => fsp.link(existing, name),
  unlink: (path: string): Promise<void> => fsp.unlink(path),
  readdir: (path: string): Promise<string[]> => fsp.readdir(path),
};
