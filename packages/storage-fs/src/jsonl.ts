import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { relative } from 'node:path';
import { errnoCode, isMissing } from './durable.js';
import { describeCondition, toStoreError, UnreadableFileError } from './errors.js';
import { fsOps } from './fs-ops.js';
import { openJobFile } from './job-file.js';
import type { StoreContext } from './store-context.js';

/**
 * Append-only files of JSON records (runs/, logs/). Each record is written as "\n" + JSON, newline
 * *first*: a write torn by a crash leaves a partial last record, and the next append starts on a
 * fresh line of its own instead of being glued to the torn one. A reader skips whatever does not
 * parse (the torn record, a hand edit), so one bad line never hides the others.
 *
 * A record's place is the byte offset of its leading newline: it only grows, so `offset + 1` is a
 * ready-made sequence number (logs use it as `seq`), and reading "after seq s" is reading from byte s.
 */

/**
 * Appending never follows a symbolic link nor blocks on a FIFO (as reads of job files do not), and
 * creates the file if it is missing.
 */
const APPEND_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Appends records in one write; fsynced if `sync`. Answers whether the file was new (its directory
 * then needs an fsync too). Something in the file's place that can never be appended to (a
 * directory, a FIFO, a symbolic link, a file this process may not write) is moved to corrupt/ and a
 * fresh file started, so that one bad entry cannot block every later write of the job's history.
 */
export async function appendRecords(
  ctx: StoreContext,
  path: string,
  what: string,
  records: readonly unknown[],
  sync: boolean,
): Promise<boolean> {
  if (records.length === 0) return false;
  const text = records.map((r) => '\n' + JSON.stringify(r)).join('');
  for (let attempt = 0; ; attempt++) {
    let fh: FileHandle;
    try {
      fh = await openForAppend(path);
    } catch (err) {
      if (attempt > 0 || !(err instanceof UnreadableFileError)) throw err;
      if ((await ctx.quarantineFile(path, relative(ctx.layout.root, path), err.message, what)) === 'stuck') throw err;
      continue;
    }
    try {
      const isNew = sync && (await fh.stat()).size === 0;
      await fsOps.write(fh, text);
      if (sync) await fsOps.datasync(fh);
      return isNew;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

async function openForAppend(path: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await fsOps.open(path, APPEND_FLAGS, 0o644);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO' || code === 'EACCES' || code === 'EPERM') {
      throw new UnreadableFileError(
        `it cannot be appended to (${code}): it is not a file this store writes, or not one this process may write`,
        'append',
        { cause: err },
      );
    }
    throw err;
  }
  const info = await fh.stat().catch(async (err: unknown) => {
    await fh.close().catch(() => undefined);
    throw err;
  });
  if (!info.isFile()) {
    await fh.close().catch(() => undefined);
    throw new UnreadableFileError('it is not a regular file', 'append');
  }
  return fh;
}

export interface Positioned<T> {
  /** The byte offset of the record's leading newline, plus one: > 0, and increasing along the file. */
  seq: number;
  value: T;
}

const NEWLINE = 0x0a;

/**
 * Reads the records of `path` from byte `from` on, decoded by `decode` (null: not a record). Never
 * throws: a missing file has no records; lines that do not decode are skipped and reported; a file
 * that can never be read as records (a directory, FIFO or symbolic link in its place, one this
 * process may not read) is moved to corrupt/; one that cannot be read just now is reported and read
 * as empty. `what` names the file's kind in reports ("run history of job X").
 */
export async function readRecords<T>(
  ctx: StoreContext,
  path: string,
  from: number,
  what: string,
  decode: (raw: unknown) => T | null,
): Promise<Positioned<T>[]> {
  let bytes: Buffer;
  try {
    const fh = await openJobFile(path);
    try {
      const size = (await fh.stat()).size;
      bytes = Buffer.alloc(Math.max(0, size - from));
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await fh.read(bytes, got, bytes.length - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      bytes = bytes.subarray(0, got);
    } finally {
      await fh.close().catch(() => undefined);
    }
  } catch (err) {
    if (isMissing(err)) return [];
    if (err instanceof UnreadableFileError) {
      await ctx.quarantineFile(path, relative(ctx.layout.root, path), err.message, what);
    } else {
      ctx.problems.report(
        'unreadable',
        path,
        `${path} (${what}) could not be read (${describeCondition(err)}); it is read as empty this time and left in place`,
        toStoreError(ctx.layout.root, 'read', err),
      );
    }
    return [];
  }
  const out: Positioned<T>[] = [];
  let bad = 0;
  // Bytes before the first newline belong to a record that starts before `from` (or to no record).
  let start = bytes.indexOf(NEWLINE);
  while (start !== -1) {
    const end = bytes.indexOf(NEWLINE, start + 1);
    const text = bytes.toString('utf8', start + 1, end === -1 ? bytes.length : end);
    if (text.length > 0) {
      let value: T | null = null;
      try {
        value = decode(JSON.parse(text));
      } catch {
        value = null;
      }
      if (value === null) bad++;
      else out.push({ seq: from + start + 1, value });
    }
    start = end;
  }
  if (bad > 0) {
    ctx.problems.report(
      'unreadable',
      path,
      `${path} (${what}) has ${bad} line(s) that are not records (a write torn by a crash, or an edit); they are skipped`,
    );
  }
  return out;
}
