/**
 * Opening a job file safely: whatever lies in a job file's place (a link, a FIFO, a directory, a
 * file this process may not read) must neither hang nor mislead a read, and must come back as an
 * UnreadableFileError saying why, so that the caller can move it aside. Its own file because every
 * reader of the store (claims, admin queries, run history, executors) opens files this way.
 */
import { constants, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { errnoCode } from './durable.js';
import { UnreadableFileError } from './errors.js';
import { fsOps } from './fs-ops.js';

/**
 * Job files are opened so that nothing in their place can hang or mislead a read: not through a
 * symbolic link (O_NOFOLLOW: the store never writes one), and without blocking (O_NONBLOCK: opening a
 * FIFO for reading would otherwise wait for a writer forever, stalling every claim of the store).
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The open failures that say "this entry can never be read as a job", as a reason; else null. */
function unreadableReason(err: unknown): string | null {
  switch (errnoCode(err)) {
    case 'ELOOP':
      return 'it is a symbolic link, which the store never writes in place of a job file';
    case 'EISDIR':
      return 'it is a directory, not a job file';
    case 'ENXIO':
      return 'it is a socket or a FIFO, not a job file';
    case 'EACCES':
    case 'EPERM':
      return `this process may not read it (${errnoCode(err)}); every file of the store must be readable by every process using it`;
    default:
      return null;
  }
}

/**
 * Opens a job file for reading, refusing anything that is not a regular file. Throws ENOENT if the
 * name is gone, UnreadableFileError if the entry can never be a job, and other errors as they come.
 */
export async function openJobFile(path: string): Promise<FileHandle> {
  return (await openChecked(path)).fh;
}

/**
 * Reads a whole job file, checked as openJobFile does (see fsOps.readSmall: claims read every job
 * they take, so this is done without the thread pool).
 */
export async function readJobFile(path: string): Promise<string> {
  let read;
  try {
    read = await fsOps.readSmall(path, READ_FLAGS);
  } catch (err) {
    const reason = unreadableReason(err);
    throw reason === null ? err : new UnreadableFileError(reason, 'read', { cause: err });
  }
  if (read.text === null) throw new UnreadableFileError(`it is ${kindOf(read.stats)}, not a job file`);
  return read.text;
}

async function openChecked(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await fsOps.open(path, READ_FLAGS);
  } catch (err) {
    const reason = unreadableReason(err);
    throw reason === null ? err : new UnreadableFileError(reason, 'read', { cause: err });
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new UnreadableFileError(`it is ${kindOf(info)}, not a job file`);
    return { fh, size: info.size };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}
