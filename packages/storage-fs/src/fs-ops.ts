import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * Every file-system call the store makes on job, key, corrupt and temp files, and every fsync, goes through this one
 * object. Production code uses it as it is; tests swap single functions to make a call fail the way
 * a real disk does (ENOSPC from a write, EACCES from an open) where the real condition cannot be set
 * up (tests run as root, which permission bits do not stop). One property lookup per call costs
 * nothing next to the syscall.
 *
 * Not exported from the package: it is the store's own seam, not an API.
 */
export const fsOps = {
  open: (path: string, flags: string | number, mode?: number): Promise<FileHandle> => fsp.open(path, flags, mode),
  /** The body of every write: temp files, reason files. */
  write: (fh: FileHandle, text: string): Promise<void> => fh.writeFile(text, 'utf8'),
  /** fsync of a directory (after renames into or out of it). */
  sync: (fh: FileHandle): Promise<void> => fh.sync(),
  /** fdatasync of a temp file before it is renamed into place. */
  datasync: (fh: FileHandle): Promise<void> => fh.datasync(),
  rename: (from: string, to: string): Promise<void> => fsp.rename(from, to),
  link: (existing: string, name: string): Promise<void> => fsp.link(existing, name),
  unlink: (path: string): Promise<void> => fsp.unlink(path),
  readdir: (path: string): Promise<string[]> => fsp.readdir(path),
};
