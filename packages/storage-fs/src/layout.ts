/**
 * The directory layout of a file store, and the file names that carry a job's changing state.
 *
 * ```
 * <dir>/
 *   oddjob-store.json                    marker: { format: "oddjob-fs", version: 3 } (see store-dir.ts, upgrade.ts)
 *   tmp/                                 files being written; never a job until renamed out of here
 *   queues/<queue>/ready/                status new | retry      <runAt>~<id>~<n|r>[p]~<attempts>~<updatedAt>~<run>
 *   queues/<queue>/running/              status processing       <id>~<token>~<expiresAt>~<attempts>~<runAt>~<since>~<owner>~<hostTag>~<flags>
 *   queues/<queue>/done|failed|cancelled final statuses          <finishedAt>~<id>~<attempts>~<runAt>~<run>~<flags>
 *                                        (<run> = <startedAt>~<executor>~<hostTag> of the latest attempt; see job-names.ts)
 *   runs/<id>.jsonl                      the job's ended runs that its name cannot derive (retry, failed, ...; runs-file.ts)
 *   logs/<id>.jsonl                      the job's log lines, appended without fsync (logs-file.ts)
 *   hosts/<hostTag>                      a host name a claim gave, named by its hash (hosts.ts)
 *   executors/<id>.json                  one registered executor, rewritten each heartbeat (executors.ts)
 *   unique/<sha256(key)>                 a hard link to the content the keyed job was inserted with
 *   schedules/<name>/<version>           one file per version; the highest is current
 *   corrupt/<8 hex>~<file>               entries that cannot be jobs, moved aside under their own name with a
 *   corrupt/<8 hex>~<file>.reason        random prefix (several may share a name); the .reason file says from
 *                                        where (<queue>/<state>/<file>), when and why (see StoreContext.quarantine)
 * ```
 * Times are epoch milliseconds of the store's clock; `<queue>` and `<owner>` are %-encoded so that
 * any queue or owner name is one safe path component. A job is exactly one file. Its *content* (JSON:
 * target, method, args, retry policy, metadata, unique key, createdAt, lastError, progress) changes
 * rarely; everything that changes on the hot path (status, runAt, attempts, lease, finishedAt) is in
 * its *name* and its *directory*, so the hot transitions are single renames and a claim can order
 * jobs by runAt, then id, from a directory listing without opening a file. The latest attempt (its
 * start, executor and host, and whether the content's progress is its own) is in the name too, so a
 * claim starts a run and a done ends one without writing a file; the content gains the progress
 * message and the result, written only by the rewrites that already replace it.
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
 * - corrupt:   any state/… whose name or content cannot be a job (bad bytes, a directory, FIFO or
 *              symbolic link in its place, a file this process may not read) → corrupt/… (after its
 *              `.reason` file is written, or without one when the disk is full). Never run, never
 *              deleted. An entry that cannot be read just now (EIO) stays where it is and is skipped.
 *
 * History (layout 2): a claim and a done carry the attempt in the job's name and write nothing else.
 * The rare ends of an attempt — retry, failed, released (the rewrites above), a lease expiring on
 * its last attempt, a claim taking over an expired lease, a cancel of a running job, a requeue of a
 * done one — append its run record, fsynced, to runs/<id>.jsonl. A rewrite appends it after the take
 * (so it is exclusive) and before the new content, so a failed rewrite can be retried; a duplicate
 * that a retried write leaves is dropped on read (records carry the key of the attempt they end).
 * Log lines go to logs/<id>.jsonl, fenced by the lease like every write but not fsynced (see
 * logs-file.ts). Purge removes both files after the job file.
 *
 * Durability: content is fsynced before it gets a name, and every directory a transition touched is
 * fsynced before the operation resolves (concurrent operations share one directory fsync).
 */
import { join } from 'node:path';

/** The directories a job file can be in; the first three are not final (waiting/: layout 4). */
export type StateDir = 'waiting' | 'ready' | 'running' | 'done' | 'failed' | 'cancelled';

// In the order of a job's life, so that a scan in this order meets a job moving forward.
export const STATE_DIRS: readonly StateDir[] = Object.freeze([
  'waiting',
  'ready',
  'running',
  'done',
  'failed',
  'cancelled',
]);

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
  readonly runs: string;
  readonly logs: string;
  readonly hosts: string;
  readonly executors: string;
  /** parents/<parent id>/<child id>: a child waits for this parent's end to be recorded (deps.ts). */
  readonly parents: string;
  /** outcomes/<child id>/<parent id>~<status>: a parent's end, recorded for the child (deps.ts). */
  readonly outcomes: string;
  /** keys/<sha256(concurrency key)>/<member>: the unfinished jobs of a key (keys.ts). */
  readonly keys: string;
  /** locks/<sha256(concurrency key)>: the key's lock file while one process admits (key-lock.ts). */
  readonly locks: string;

  constructor(readonly root: string) {
    this.tmp = join(root, 'tmp');
    this.queues = join(root, 'queues');
    this.unique = join(root, 'unique');
    this.schedules = join(root, 'schedules');
    this.corrupt = join(root, 'corrupt');
    this.marker = join(root, MARKER_FILE);
    this.runs = join(root, 'runs');
    this.logs = join(root, 'logs');
    this.hosts = join(root, 'hosts');
    this.executors = join(root, 'executors');
    this.parents = join(root, 'parents');
    this.outcomes = join(root, 'outcomes');
    this.keys = join(root, 'keys');
    this.locks = join(root, 'locks');
  }

  /** Every directory a layout 4 store has at its top. */
  get topDirs(): string[] {
    return [
      this.tmp,
      this.queues,
      this.unique,
      this.schedules,
      this.corrupt,
      this.runs,
      this.logs,
      this.hosts,
      this.executors,
      this.parents,
      this.outcomes,
      this.keys,
      this.locks,
    ];
  }

  runsFile(id: string): string {
    return join(this.runs, `${id}.jsonl`);
  }

  logsFile(id: string): string {
    return join(this.logs, `${id}.jsonl`);
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
