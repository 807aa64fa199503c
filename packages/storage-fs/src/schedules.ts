import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, StorageOperationError, StorageUnavailableError, type ScheduleRecord } from '@oddjob/core';
import { errnoCode, isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { PROVIDER } from './errors.js';
import { encodeComponent } from './layout.js';
import type { StoreContext } from './store-context.js';

/**
 * Schedules: schedules/<name>/<version>, one file per version, the highest current.
 *
 * - insert: the directory is built in tmp/ with its first version inside, then renamed into
 *   schedules/. A directory can be renamed only onto a missing or empty one, and a schedule's
 *   directory is never empty, so of two inserts of one name exactly one succeeds.
 * - update (compare-and-set on version v): the new content is hard-linked as version v+1; link fails
 *   if v+1 exists, i.e. if anyone else already moved past v. We also check that v exists (is current).
 *   Older versions are unlinked afterwards; readers that lose such a race read again.
 * - delete: the directory is renamed into tmp/ (atomic; an update racing it finds no directory) and
 *   removed there.
 */
const DATE_FIELDS = ['nextFireAt', 'lastFireAt', 'createdAt', 'updatedAt'] as const;
const MAX_ENCODED_NAME = 200;

function dirOf(ctx: StoreContext, name: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidOptionError('name', 'a schedule name must be a non-empty string');
  const encoded = encodeComponent(name);
  if (encoded.length > MAX_ENCODED_NAME)
    throw new InvalidOptionError(
      'name',
      `schedule name is too long for the file store (${encoded.length} > ${MAX_ENCODED_NAME} once %-encoded)`,
    );
  return join(ctx.layout.schedules, encoded);
}

function encode(s: ScheduleRecord, version: number): string {
  const out: Record<string, unknown> = { ...s, version };
  for (const f of DATE_FIELDS) out[f] = s[f] === null ? null : s[f].getTime();
  return JSON.stringify(out) + '\n';
}

function decode(text: string, file: string): ScheduleRecord {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new StorageOperationError(
      PROVIDER,
      'readSchedule',
      `schedule file ${file} is not valid JSON (${(err as Error).message})`,
      { cause: err },
    );
  }
  for (const f of DATE_FIELDS) raw[f] = raw[f] === null || raw[f] === undefined ? null : new Date(raw[f] as number);
  // Schedules written before priorities and concurrency keys read as priority 0, no key.
  raw.priority ??= 0;
  raw.concurrency ??= null;
  return raw as unknown as ScheduleRecord;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The current (highest) version of a schedule, or null if there is no such schedule. */
async function current(ctx: StoreContext, dir: string): Promise<ScheduleRecord | null> {
  for (let tries = 0; tries < 50; tries++) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err) || errnoCode(err) === 'ENOTDIR') return null;
      throw err;
    }
    const versions = names.map(Number).filter(Number.isSafeInteger);
    if (versions.length === 0) return null;
    const file = join(dir, String(Math.max(...versions)));
    try {
      return decode(await readFile(file, 'utf8'), file);
    } catch (err) {
      if (!isMissing(err)) throw err; // else: superseded and unlinked while we looked; look again
    }
  }
  throw new StorageUnavailableError(
    PROVIDER,
    'readSchedule',
    `schedule in ${dir} kept changing while being read (50 tries); try again`,
  );
}

export async function insertSchedule(ctx: StoreContext, s: ScheduleRecord): Promise<boolean> {
  const dir = dirOf(ctx, s.name);
  const building = join(ctx.layout.tmp, `schedule-${randomBytes(8).toString('hex')}`);
  await mkdir(building);
  try {
    const tmp = await writeTemp(ctx.layout.tmp, encode(s, s.version));
    await rename(tmp, join(building, String(s.version)));
    await syncDir(building);
    try {
      await rename(building, dir);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw err;
    }
    await ctx.syncer.sync(ctx.layout.schedules);
    return true;
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

export async function getSchedule(ctx: StoreContext, name: string): Promise<ScheduleRecord | null> {
  return current(ctx, dirOf(ctx, name));
}

export async function listSchedules(ctx: StoreContext): Promise<ScheduleRecord[]> {
  const out: ScheduleRecord[] = [];
  for (const entry of await readdir(ctx.layout.schedules)) {
    const s = await current(ctx, join(ctx.layout.schedules, entry));
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function updateSchedule(ctx: StoreContext, s: ScheduleRecord, expectedVersion: number): Promise<boolean> {
  const dir = dirOf(ctx, s.name);
  try {
    await stat(join(dir, String(expectedVersion)));
  } catch (err) {
    if (isMissing(err) || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
  const next = expectedVersion + 1;
  const tmp = await writeTemp(ctx.layout.tmp, encode(s, next));
  try {
    await link(tmp, join(dir, String(next)));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST' || code === 'ENOENT') return false; // someone moved past v, or deleted it
    throw err;
  } finally {
    await unlinkQuietly(tmp);
  }
  // Old versions are unlinked (all but the one before ours), so "v+1 exists" could be false again
  // for a very stale v; a newer version than ours in the directory gives such a late write away.
  const names = await readdir(dir).catch(() => [] as string[]);
  const versions = names.map(Number).filter(Number.isSafeInteger);
  if (versions.some((v) => v > next)) {
    await unlink(join(dir, String(next))).catch(() => undefined);
    return false;
  }
  // Not the shared syncer: it keeps directory handles open, and this directory may be deleted and
  // made anew, which would leave a cached handle pointing at the old one.
  await syncDir(dir).catch((err) => {
    if (!isMissing(err)) throw err; // deleted right after our update: nothing left to make durable
  });
  for (const v of versions) {
    if (v < expectedVersion) await unlink(join(dir, String(v))).catch(() => undefined);
  }
  return true;
}

export async function deleteSchedule(ctx: StoreContext, name: string): Promise<boolean> {
  const dir = dirOf(ctx, name);
  const grave = join(ctx.layout.tmp, `deleted-${randomBytes(8).toString('hex')}`);
  try {
    await rename(dir, grave);
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  await ctx.syncer.sync(ctx.layout.schedules);
  await rm(grave, { recursive: true, force: true });
  return true;
}

export async function listDueSchedules(ctx: StoreContext, now: Date, limit: number): Promise<ScheduleRecord[]> {
  return (await listSchedules(ctx))
    .filter((s) => !s.paused && s.nextFireAt !== null && s.nextFireAt <= now)
    .sort((a, b) => a.nextFireAt!.getTime() - b.nextFireAt!.getTime())
    .slice(0, limit);
}
