/**
 * The directory layout of a file store, and the file names that carry a job's changing state.
 *
 * ```
 * <dir>/
 *   oddjob-store.json                    marker: { format: "oddjob-fs", version: 1 }
 *   tmp/                                 files being written; never a job until renamed out of here
 *   queues/<queue>/ready/                status new | retry      <runAt>~<id>~<n|r>~<attempts>~<updatedAt>
 *   queues/<queue>/running/              status processing       <id>~<token>~<expiresAt>~<attempts>~<runAt>~<updatedAt>~<owner>
 *   queues/<queue>/done|failed|cancelled final statuses          <finishedAt>~<id>~<attempts>~<runAt>
 *   unique/<sha256(key)>                 a hard link to the content the keyed job was inserted with
 *   schedules/<name>/<version>           one file per version; the highest is current
 *   corrupt/<queue>~<state>~<file>~<n>   unreadable files moved aside, beside a `.reason` text file
 * ```
 * Times are epoch milliseconds of the store's clock; `<queue>` and `<owner>` are %-encoded so that
 * any queue or owner name is one safe path component. A job is exactly one file. Its *content* (JSON:
 * target, method, args, retry policy, metadata, unique key, createdAt, lastError, progress) changes
 * rarely; everything that changes on the hot path (status, runAt, attempts, lease, finishedAt) is in
 * its *name* and its *directory*, so the hot transitions are single renames and a claim can order
 * jobs by runAt, then id, from a directory listing without opening a file.
 *
 * Every transition is a rename, and a rename of a name that is gone fails (ENOENT). That is the
 * whole concurrency story: when several processes race to move the same file, exactly one rename
 * succeeds, and the losers learn that they lost. No locks are taken, so a killed process leaves
 * nothing locked.
 *
 * - add:       tmp/x (written, fsynced) → ready/<runAt>~<id>~n~0~<now>. With a unique key, tmp/x is
 *              first hard-linked to unique/<hash> (link fails with EEXIST if the key is taken: the
 *              holder's id is read from that file and answered instead).
 * - claim:     ready/… → running/<id>~<fresh token>~<now+leaseMs>~<attempts+1>~…; or an expired
 *              running/… → running/… with a fresh token. Only one claimer's rename succeeds.
 * - extend:    running/<id>~<token>~<old expiry>~… → running/<id>~<token>~<new expiry>~…. Fenced:
 *              the source name contains the token, so a lease someone else took cannot be extended.
 * - done:      running/<id>~<token>~… → done/<now>~<id>~…. Fenced by the token in the source name.
 * - released:  running/<id>~<token>~… → ready/<now>~<id>~…~<attempts-1>~<now>. Fenced likewise.
 * - retry, failed, progress, and failing an expired lease with no attempts left change the content,
 *   which a single rename cannot do. They are a fenced *take* followed by a rewrite:
 *     1. running/<id>~<token>~… → running/<id>~<private token>~<far expiry>~… (the fence: only the
 *        lease holder knows the source name; the far expiry keeps reclaimers off while we write);
 *     2. the new content is written to tmp/y, fsynced, and renamed over the private name (the job's
 *        old content is replaced atomically; an open descriptor on the old file tells us, through its
 *        link count, whether someone — an admin cancel — moved it away first, in which case the
 *        stray copy is removed and the write reports the lease as lost);
 *     3. running/<private> → ready/…, failed/… or (progress) back to running/ under the holder's own
 *        token and expiry.
 *   A crash between the steps leaves the job in running/ under a private token: it is simply a
 *   processing job whose lease will expire and be reclaimed (its attempt counted).
 * - cancel:    ready/… or running/… → cancelled/<now>~<id>~…  (a running job's lease thus vanishes).
 * - requeue:   done|failed|cancelled/… → ready/<runAt>~<id>~n~0~<now>.
 * - purge:     unlink unique/<hash> (if it is this job's) and then the job file. Key first, so that a
 *              crash in between never leaves a key held by a job that no longer exists.
 * - corrupt:   any state/… whose name or content cannot be read → corrupt/… (after its `.reason`
 *              file is written). Never run, never deleted.
 *
 * Durability: content is fsynced before it gets a name, and every directory a transition touched is
 * fsynced before the operation resolves (concurrent operations share one directory fsync).
 */
import { join } from 'node:path';
import type { JobStatus } from '@oddjob/core';

/** The directories a job file can be in; the first two are not final. */
export type StateDir = 'ready' | 'running' | 'done' | 'failed' | 'cancelled';

export const STATE_DIRS: readonly StateDir[] = Object.freeze(['ready', 'running', 'done', 'failed', 'cancelled']);

export const FINAL_DIRS = Object.freeze(['done', 'failed', 'cancelled'] as const);

export const MARKER_FILE = 'oddjob-store.json';

/** Paths inside one store. */
export class Layout {
  readonly tmp: string;
  readonly queues: string;
  readonly unique: string;
  readonly schedules: string;
  readonly corrupt: string;
  readonly marker: string;

  constructor(readonly root: string) {
    this.tmp = join(root, 'tmp');
    this.queues = join(root, 'queues');
    this.unique = join(root, 'unique');
    this.schedules = join(root, 'schedules');
    this.corrupt = join(root, 'corrupt');
    this.marker = join(root, MARKER_FILE);
  }

  queueDir(queue: string): string {
    return join(this.queues, encodeComponent(queue));
  }

  stateDir(queue: string, state: StateDir): string {
    return join(this.queues, encodeComponent(queue), state);
  }

  file(queue: string, state: StateDir, name: string): string {
    return join(this.queues, encodeComponent(queue), state, name);
  }
}

/**
 * Makes any string one safe path component: letters, digits, `_` and `-` stay, everything else
 * (including `.`, so that "." and ".." are harmless, and `~`, our field separator) becomes %XX.
 */
export function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(/[.!~*'()]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function decodeComponent(value: string): string {
  return decodeURIComponent(value);
}

// ---- file names ----

export interface ReadyName {
  state: 'ready';
  runAt: number;
  id: string;
  status: 'new' | 'retry';
  attempts: number;
  updatedAt: number;
}

export interface RunningName {
  state: 'running';
  id: string;
  token: string;
  expiresAt: number;
  attempts: number;
  runAt: number;
  updatedAt: number;
  owner: string;
}

export interface FinalName {
  state: 'done' | 'failed' | 'cancelled';
  finishedAt: number;
  id: string;
  attempts: number;
  runAt: number;
}

export type ParsedName = ReadyName | RunningName | FinalName;

const SEP = '~';
/** Ids and tokens go into names unescaped, so they are held to a safe alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function formatName(n: ParsedName): string {
  switch (n.state) {
    case 'ready':
      return [n.runAt, n.id, n.status === 'new' ? 'n' : 'r', n.attempts, n.updatedAt].join(SEP);
    case 'running':
      return [n.id, n.token, n.expiresAt, n.attempts, n.runAt, n.updatedAt, encodeComponent(n.owner)].join(SEP);
    default:
      return [n.finishedAt, n.id, n.attempts, n.runAt].join(SEP);
  }
}

function int(text: string | undefined): number {
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) return NaN;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** The state a name describes, or null if the name is not one this store writes. */
export function parseName(state: StateDir, name: string): ParsedName | null {
  const f = name.split(SEP);
  let parsed: ParsedName;
  switch (state) {
    case 'ready': {
      if (f.length !== 5 || (f[2] !== 'n' && f[2] !== 'r')) return null;
      parsed = { state, runAt: int(f[0]), id: f[1]!, status: f[2] === 'n' ? 'new' : 'retry', attempts: int(f[3]), updatedAt: int(f[4]) };
      if (Number.isNaN(parsed.runAt + parsed.attempts + parsed.updatedAt)) return null;
      break;
    }
    case 'running': {
      if (f.length !== 7 || !ID_PATTERN.test(f[1]!)) return null;
      let owner: string;
      try {
        owner = decodeComponent(f[6]!);
      } catch {
        return null;
      }
      parsed = { state, id: f[0]!, token: f[1]!, expiresAt: int(f[2]), attempts: int(f[3]), runAt: int(f[4]), updatedAt: int(f[5]), owner };
      if (Number.isNaN(parsed.expiresAt + parsed.attempts + parsed.runAt + parsed.updatedAt)) return null;
      break;
    }
    default: {
      if (f.length !== 4) return null;
      parsed = { state, finishedAt: int(f[0]), id: f[1]!, attempts: int(f[2]), runAt: int(f[3]) };
      if (Number.isNaN(parsed.finishedAt + parsed.attempts + parsed.runAt)) return null;
    }
  }
  return ID_PATTERN.test(parsed.id) && parsed.attempts >= 0 ? parsed : null;
}

/** The status a file in `state` with this name has. */
export function statusOf(n: ParsedName): JobStatus {
  switch (n.state) {
    case 'ready':
      return n.status;
    case 'running':
      return 'processing';
    default:
      return n.state;
  }
}

/** Claim order: runAt, then id (ids are time-ordered UUIDs, so this is creation order). */
export function byRunAtThenId(a: { runAt: number; id: string }, b: { runAt: number; id: string }): number {
  return a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
