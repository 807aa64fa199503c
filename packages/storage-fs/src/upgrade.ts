import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, isMissing, writeTemp, unlinkQuietly } from './durable.js';
import { fsOps } from './fs-ops.js';
import { listOrNone } from './list-dir.js';
import { STATE_DIRS, type Layout, type StateDir } from './layout.js';
import { parseName } from './job-names.js';

/**
 * Layout 3 → 4 (jobs that wait): the new top directories (parents, outcomes, keys, locks) and a
 * waiting/ directory in every queue, then the marker. Layout 3 names and contents are layout 4 ones
 * (no flow flags: priority 0, no key; format 3 files read with the new fields at their defaults).
 * The bump makes layout 3 code, which knows neither waiting/ nor the new flags, refuse the store.
 *
 * Layout 2 → 3 (host affinity): only the marker changes. Layout 3 adds flag `h` to the names of
 * pinned jobs and `pinnedHost` to their content (format 3); no layout 2 job is pinned, so its names
 * and content are already layout 3 ones. The marker is bumped so that layout 2 code, which would
 * take an `h` name for a foreign file, refuses the store instead.
 *
 * Layout 1 → 2, in place. Layout 2 names carry the latest attempt (see layout.ts); a layout 1 name
 * is renamed to the layout 2 name that says "attempt unknown" (startedAt, executor and host empty:
 * the new fields read as null) and "the content's progress is current" (layout 1 kept progress in the
 * content for good), so every job reads back as it did. Job contents stay as they are: format 1
 * files read with the new fields null (content.ts). Nothing else changes but the new directories.
 *
 * Crash-safe by construction: each step is idempotent and atomic on its own (a mkdir, a rename of
 * one job file), and the marker says 2 only after every renamed directory and the new ones are
 * fsynced. A crash anywhere leaves a store marked 1 that holds a mix of layout 1 and 2 names; the
 * next open runs this again, which renames what is left. Two processes upgrading at once are safe
 * too: of two renames of one name, one fails with ENOENT and is skipped.
 *
 * Every process using the store must be stopped first: a layout 1 process would take the layout 2
 * names it meets for foreign files.
 */
export async function upgradeLayout(
  layout: Layout,
  from: number,
  to: number,
  writeMarker: (version: number) => string,
): Promise<void> {
  for (const d of layout.topDirs) await mkdir(d, { recursive: true });
  await fsyncDir(layout.root);
  if (from < 2) await renameLayout1Names(layout);
  // Layout 4: every queue has a waiting/ directory (jobs are renamed into it, never created there).
  if (from < 4) {
    for (const queue of await listOrNone(layout.queues))
      await mkdir(join(layout.queues, queue, 'waiting'), { recursive: true });
    for (const queue of await listOrNone(layout.queues)) await fsyncDir(join(layout.queues, queue));
  }
  // Last: the marker. Replaced by rename, so it is always one complete version or the other.
  const tmp = await writeTemp(layout.tmp, writeMarker(to));
  try {
    await fsOps.rename(tmp, layout.marker);
  } catch (err) {
    await unlinkQuietly(tmp);
    throw err;
  }
  await fsyncDir(layout.root);
}

async function renameLayout1Names(layout: Layout): Promise<void> {
  for (const queue of await listOrNone(layout.queues)) {
    for (const state of STATE_DIRS) {
      const dir = join(layout.queues, queue, state);
      let renamed = false;
      for (const name of await listOrNone(dir)) {
        const next = layout2Name(state, name);
        if (next === null) continue;
        try {
          await fsOps.rename(join(dir, name), join(dir, next));
          renamed = true;
        } catch (err) {
          if (!isMissing(err)) throw err; // renamed by another upgrading process
        }
      }
      if (renamed) await fsyncDir(dir);
    }
  }
}

/**
 * The layout 2 name of a layout 1 job file name, or null if `name` is not one (already renamed, or
 * not a job file: those are left for the store to deal with as it does with any foreign entry).
 */
export function layout2Name(state: StateDir, name: string): string | null {
  const f = name.split('~');
  let next: string;
  switch (state) {
    case 'ready': // <runAt>~<id>~<n|r>~<attempts>~<updatedAt>
      if (f.length !== 5) return null;
      next = `${f[0]}~${f[1]}~${f[2]}p~${f[3]}~${f[4]}~~~`;
      break;
    case 'running': // <id>~<token>~<expiresAt>~<attempts>~<runAt>~<updatedAt>~<owner>
      if (f.length !== 7) return null;
      next = `${f.join('~')}~~p`;
      break;
    default: // <finishedAt>~<id>~<attempts>~<runAt>
      if (f.length !== 4) return null;
      next = `${f.join('~')}~~~~p`;
  }
  return parseName(state, next) ? next : null;
}
