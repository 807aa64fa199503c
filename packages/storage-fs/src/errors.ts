import { OddJobError, StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { errnoCode } from './durable.js';

/** The provider name every error of this store carries. */
export const PROVIDER = 'fs';

/**
 * A file whose bytes are not a job this store wrote (half-written, truncated, hand-edited, another
 * job's content) or that is not a file at all (a directory, a FIFO, a symbolic link in its place).
 * Permanent by nature: reading it again gives the same bytes. Inside the store it means "quarantine
 * this entry"; it reaches callers only from places that read one named file (a unique-key holder).
 */
export class UnreadableFileError extends StorageOperationError {
  constructor(reason: string, operation = 'read', options?: { cause?: unknown }) {
    super(PROVIDER, operation, reason, options);
  }
}

interface Condition {
  /** What a person reads: the condition, not the syscall. */
  text: string;
  /** Whether trying again later, with nothing else changed, may succeed. */
  transient: boolean;
  hint?: string;
}

/**
 * The errno codes the store meets, as conditions. A full disk is a StorageOperationError, as core
 * classifies it: it does not go away by itself, someone has to free space (the outcome writer keeps
 * its own retry for that; see outcomes.ts). Running out of descriptors or a busy resource passes.
 */
const CONDITIONS: Readonly<Record<string, Condition>> = Object.freeze({
  ENOSPC: { text: 'disk full', transient: false, hint: 'free space on the file system that holds the store' },
  EDQUOT: {
    text: 'disk quota exceeded',
    transient: false,
    hint: "raise the quota or free space in the store owner's quota",
  },
  EROFS: { text: 'the file system is read-only', transient: false },
  EACCES: {
    text: 'permission denied',
    transient: false,
    hint: 'the process needs read and write access to every file and directory of the store',
  },
  EPERM: { text: 'operation not permitted', transient: false },
  EIO: { text: 'input/output error (the disk or file system reported a failure)', transient: false },
  EXDEV: { text: 'the store spans several file systems (a rename crossed one)', transient: false },
  ENOTDIR: { text: 'something that is not a directory lies where the store keeps a directory', transient: false },
  EISDIR: { text: 'a directory lies where the store keeps a file', transient: false },
  ENAMETOOLONG: { text: 'a path is too long for the file system', transient: false },
  ENOENT: { text: 'a file or directory of the store is missing', transient: false },
  EMFILE: { text: 'too many open files in this process', transient: true },
  ENFILE: { text: 'too many open files on this system', transient: true },
  EAGAIN: { text: 'resource temporarily unavailable', transient: true },
  EBUSY: { text: 'resource busy', transient: true },
  EINTR: { text: 'interrupted system call', transient: true },
  ETIMEDOUT: { text: 'timed out', transient: true },
  ENOMEM: { text: 'out of memory', transient: true },
});

/** "disk full (ENOSPC)", or the code itself for one we do not know; for messages. */
export function describeCondition(err: unknown): string {
  const code = errnoCode(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  const known = CONDITIONS[code];
  return known ? `${known.text} (${code})` : `file system error ${code}`;
}

export function isTransientCode(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && CONDITIONS[code]?.transient === true;
}

/**
 * Turns whatever an operation threw into a member of core's storage family, naming the store and the
 * condition; Node's own message (which names the syscall and path) stays as `cause` and in brackets.
 * OddJob's own errors (a bad option, a setup error, an already mapped error) pass unchanged.
 */
export function toStoreError(dir: string, operation: string, err: unknown, note?: string): OddJobError {
  if (err instanceof OddJobError) return err;
  const code = errnoCode(err);
  const known = code === undefined ? undefined : CONDITIONS[code];
  const detail = err instanceof Error ? err.message : String(err);
  const parts = [`file store ${dir}: ${operation} failed: ${describeCondition(err)}`];
  if (note) parts.push(note);
  if (known?.hint) parts.push(known.hint);
  const message = code === undefined ? parts.join('; ') : `${parts.join('; ')} [${detail}]`;
  return known?.transient
    ? new StorageUnavailableError(PROVIDER, operation, message, { cause: err })
    : new StorageOperationError(PROVIDER, operation, message, { cause: err });
}
