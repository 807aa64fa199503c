import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QueueListeners, type Clock } from '@oddjob/core';
import { decodeContent, type JobContent } from './content.js';
import { DirSyncer, isMissing, unlinkQuietly, writeNewFile } from './durable.js';
import { describeCondition, toStoreError, UnreadableFileError } from './errors.js';
import { fsOps } from './fs-ops.js';
import { readJobFile } from './job-file.js';
import { decodeComponent, encodeComponent, Layout, STATE_DIRS, type StateDir } from './layout.js';
import { parseName, type ParsedName } from './job-names.js';
import type { RecordedOutcome } from './outcomes.js';
import { HostNames } from './hosts.js';
import { ProblemLog, type StoreProblem } from './problems.js';

/** A job file found in a state directory. */
export interface Located<N extends ParsedName = ParsedName> {
  queue: string;
  name: string;
  parsed: N;
}

/**
 * What reading one entry gave: its content; 'gone' (moved by another process, or cancelled);
 * 'quarantined' (it cannot be a job and is now in corrupt/); 'unreadable' (it could not be read now,
 * or could not be moved aside: it was left where it is, skipped, and reported).
 */
export type ReadResult =
  { kind: 'ok'; content: JobContent } | { kind: 'gone' } | { kind: 'quarantined' } | { kind: 'unreadable' };

const GONE: ReadResult = Object.freeze({ kind: 'gone' });
const QUARANTINED: ReadResult = Object.freeze({ kind: 'quarantined' });
const UNREADABLE: ReadResult = Object.freeze({ kind: 'unreadable' });

/** What a corrupt file was moved to and why. */
export interface CorruptFile {
  file: string;
  reason: string;
}

/**
 * What every operation module shares: paths, the clock, the directory syncer, and the little state
 * a process keeps in memory (none of it needed for correctness across processes: the directories are
 * the truth; this is a cache that saves directory scans).
 */
export class StoreContext {
  readonly layout: Layout;
  readonly syncer = new DirSyncer();
  /** Where this process last saw each job it holds a lease on, to fence writes without a scan. */
  readonly runningNames = new Map<string, Located>();
  /** Outcomes written whose batch was rejected, until the batch is retried (see outcomes.ts). */
  readonly recordedOutcomes = new Map<string, RecordedOutcome>();
  /**
   * While a ReadyWatcher of this store object runs: the names its claims moved out of ready/, as
   * `<queue>/<name>`. Each such rename raises a watch event that is no arrival; the watcher drops it
   * here instead of looking the name up (see watch.ts). null while nothing watches.
   */
  claimedFromReady: Set<string> | null = null;
  private readonly knownQueues = new Set<string>();
  /** Each ready/ directory's names as last listed, parsed (see listState). */
  private readonly readyNames = new Map<string, Map<string, ParsedName>>();
  private readonly jobLocks = new Map<string, Promise<unknown>>();
  private readonly listeners = new QueueListeners();
  readonly problems: ProblemLog;
  /** The host names behind the tags in job names. */
  readonly hosts: HostNames;
  /** waitForJob callers of this process, woken when this store object makes their job final. */
  private readonly finishWaiters = new Map<string, Set<() => void>>();

  constructor(
    root: string,
    readonly clock: Clock,
    onProblem: (problem: StoreProblem) => void,
  ) {
    this.layout = new Layout(root);
    this.problems = new ProblemLog(onProblem, () => this.nowMs());
    this.hosts = new HostNames(this.layout, this.syncer, this.problems);
  }

  /** Registers a waitForJob caller's wake-up for one job; returns its removal. */
  onJobFinished(id: string, wake: () => void): () => void {
    let set = this.finishWaiters.get(id);
    if (!set) this.finishWaiters.set(id, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.finishWaiters.delete(id);
    };
  }

  /** Wakes this process's waiters on these jobs (they re-read the job; see core's waitForFinalJob). */
  jobsFinished(ids: Iterable<string>): void {
    if (this.finishWaiters.size === 0) return;
    for (const id of ids) for (const wake of this.finishWaiters.get(id) ?? []) wake();
  }

  nowMs(): number {
    return this.clock.now().getTime();
  }

  /** Creates a queue's directories once per process (other processes may race: mkdir tolerates it). */
  async ensureQueue(queue: string): Promise<void> {
    if (this.knownQueues.has(queue)) return;
    const qdir = this.layout.queueDir(queue);
    await mkdir(qdir, { recursive: true });
    await Promise.all(STATE_DIRS.map((s) => mkdir(join(qdir, s), { recursive: true })));
    // The new directories' own entries must be durable before a job file is renamed into them.
    await this.syncer.syncAll([this.layout.queues, qdir]);
    this.knownQueues.add(queue);
  }

  /** The store's queues. Fails only if queues/ itself cannot be listed: that is the whole store. */
  async listQueues(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsOps.readdir(this.layout.queues);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const out: string[] = [];
    for (const name of names) {
      let queue: string | null = null;
      try {
        queue = decodeComponent(name);
      } catch {
        // not %-encoding we wrote; reported below
      }
      if (queue !== null && encodeComponent(queue) === name) out.push(queue);
      else {
        const path = join(this.layout.queues, name);
        this.problems.report('unreadable', path, `${path} is not a queue directory this store writes; it is ignored`);
      }
    }
    return out;
  }

  /** The parsed job files of one state directory; files with names we did not write are moved aside. */
  async listState(queue: string, state: StateDir): Promise<Located[]> {
    const dir = this.layout.stateDir(queue, state);
    let names: string[];
    try {
      names = await fsOps.readdir(dir);
    } catch (err) {
      if (isMissing(err)) return [];
      // One queue's broken directory must not stop the other queues, or the store's admin queries.
      this.problems.report(
        'unreadable',
        dir,
        `${dir} cannot be listed (${describeCondition(err)}); its jobs are skipped until it can be`,
        toStoreError(this.layout.root, 'list', err),
      );
      return [];
    }
    // ready/ holds the backlog, listed again by every claim: names seen in the last listing are not
    // parsed again (a name never changes meaning; the map keeps only the names listed this time).
    const seen = state === 'ready' ? this.readyNames.get(dir) : undefined;
    const now = state === 'ready' ? new Map<string, ParsedName>() : undefined;
    const out: Located[] = [];
    for (const name of names) {
      const parsed = seen?.get(name) ?? parseName(state, name);
      if (parsed) {
        now?.set(name, Object.freeze(parsed));
        out.push({ queue, name, parsed });
      } else await this.quarantine(queue, state, name, `file name "${name}" is not one this store writes in ${state}/`);
    }
    if (now) this.readyNames.set(dir, now);
    return out;
  }

  /** Reads a job file. Throws ENOENT if it moved, UnreadableFileError if it cannot be a job. */
  async readContent(queue: string, state: StateDir, name: string): Promise<JobContent> {
    const text = await readJobFile(this.layout.file(queue, state, name));
    const content = decodeContent(text);
    const parsed = parseName(state, name);
    if (parsed && content.id !== parsed.id)
      throw new UnreadableFileError(`the file holds job ${content.id}, but its name says ${parsed.id}`);
    if (content.queue !== queue)
      throw new UnreadableFileError(`the file holds a job of queue "${content.queue}" but lies in queue "${queue}"`);
    return content;
  }

  /**
   * Reads one entry; never throws. An entry that cannot be a job is moved to corrupt/; one that
   * cannot be read just now (EIO, out of descriptors) is left in place and reported.
   */
  async readEntry(queue: string, state: StateDir, name: string): Promise<ReadResult> {
    try {
      return { kind: 'ok', content: await this.readContent(queue, state, name) };
    } catch (err) {
      if (isMissing(err)) return GONE;
      if (err instanceof UnreadableFileError) {
        switch (await this.quarantine(queue, state, name, err.message)) {
          case 'moved':
            return QUARANTINED;
          case 'gone':
            return GONE;
          case 'stuck':
            return UNREADABLE;
        }
      }
      const path = this.layout.file(queue, state, name);
      this.problems.report(
        'unreadable',
        path,
        `${path} could not be read (${describeCondition(err)}); it is skipped and left in place, to be read again later`,
        toStoreError(this.layout.root, 'read', err),
      );
      return UNREADABLE;
    }
  }

  /** The content of an entry, or null if it is gone or could not be read (see readEntry). */
  async readOrQuarantine(queue: string, state: StateDir, name: string): Promise<JobContent | null> {
    const r = await this.readEntry(queue, state, name);
    return r.kind === 'ok' ? r.content : null;
  }

  /**
   * Moves an entry that cannot be a job aside, to corrupt/, with a `.reason` file beside it; never
   * throws. The reason is written first, so that a crash in between leaves the entry where it was, to
   * be found again. On a full disk the reason cannot be written: the entry is moved anyway (a rename
   * needs no space) and the reason goes to the problem report, because leaving it in place would
   * make every claim meet it again. 'stuck' if it could not be moved (it was reported).
   */
  async quarantine(queue: string, state: StateDir, name: string, reason: string): Promise<'moved' | 'gone' | 'stuck'> {
    const moved = await this.quarantineFile(
      this.layout.file(queue, state, name),
      `${queue}/${state}/${name}`,
      reason,
      'a job',
    );
    if (moved === 'moved') {
      this.runningNames.forEach((loc, id) => {
        if (loc.name === name) this.runningNames.delete(id);
      });
    }
    return moved;
  }

  /**
   * Moves any file of the store that cannot be what it should be (`what`: "a job", "a run history",
   * ...) to corrupt/ with a `.reason` file saying from where (`where`, relative to the store) and
   * why; never throws. See quarantine for the order of the steps.
   */
  async quarantineFile(
    source: string,
    where: string,
    reason: string,
    what: string,
  ): Promise<'moved' | 'gone' | 'stuck'> {
    // The origin is in the reason file; the name stays within the 255-byte limit.
    const target = join(this.layout.corrupt, `${randomBytes(4).toString('hex')}~${basename(source)}`);
    const reasonFile = `${target}.reason`;
    let reasonError: unknown = null;
    try {
      await writeNewFile(reasonFile, `${new Date(this.nowMs()).toISOString()} ${where}: ${reason}\n`, false);
    } catch (err) {
      reasonError = err;
    }
    try {
      await fsOps.rename(source, target);
    } catch (err) {
      if (reasonError === null) await unlinkQuietly(reasonFile);
      if (isMissing(err)) return 'gone';
      this.problems.report(
        'unreadable',
        source,
        `${source} cannot be ${what} (${reason}) and could not be moved to corrupt/ (${describeCondition(err)}); it is skipped and left in place`,
        toStoreError(this.layout.root, 'quarantine', err),
      );
      return 'stuck';
    }
    // If this fsync fails, a crash may undo the move, and the entry is simply found again.
    await this.syncer.syncAll([this.layout.corrupt, dirname(source)]).catch(() => undefined);
    const noReason =
      reasonError === null
        ? ''
        : `; its .reason file could not be written (${describeCondition(reasonError)}), so this report is the only record of why`;
    this.problems.report(
      'quarantined',
      target,
      `${source} cannot be ${what} (${reason}); moved to ${target}${noReason}`,
    );
    return 'moved';
  }

  async listCorrupt(): Promise<CorruptFile[]> {
    const names = await fsOps.readdir(this.layout.corrupt);
    const out: CorruptFile[] = [];
    for (const n of names.filter((n) => !n.endsWith('.reason')).sort()) {
      const reason = await readFile(join(this.layout.corrupt, `${n}.reason`), 'utf8').catch(
        () => '(no reason recorded: the .reason file could not be written; see the problem reported when it was moved)',
      );
      out.push({ file: join(this.layout.corrupt, n), reason: reason.trim() });
    }
    return out;
  }

  /**
   * Finds the one file of a job. A scan of every state directory: fine for admin calls, which is
   * where it is used; the hot paths know their file names.
   */
  async locate(id: string): Promise<(Located & { state: StateDir }) | null> {
    const cached = this.runningNames.get(id);
    for (const queue of cached ? [cached.queue] : []) {
      const hit = await this.locateIn(queue, id);
      if (hit) return hit;
    }
    for (const queue of await this.listQueues()) {
      const hit = await this.locateIn(queue, id);
      if (hit) return hit;
    }
    return null;
  }

  /** Finds a job's file in one queue (a scan of its state directories), or null. */
  async locateInQueue(queue: string, id: string): Promise<(Located & { state: StateDir }) | null> {
    return this.locateIn(queue, id);
  }

  private async locateIn(queue: string, id: string): Promise<(Located & { state: StateDir }) | null> {
    for (const state of STATE_DIRS) {
      for (const loc of await this.listState(queue, state)) {
        if (loc.parsed.id === id) return { ...loc, state };
      }
    }
    return null;
  }

  /**
   * Runs `fn` after every earlier operation of this process on the same job: an extend and an
   * outcome for one job must not race each other's renames (the loser would see its own lease gone).
   */
  async withJobLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const before = this.jobLocks.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.jobLocks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.jobLocks.get(id) === tail) this.jobLocks.delete(id);
    }
  }

  onJobsAvailable(listener: (queue: string) => void): () => void {
    return this.listeners.add(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  notify(queues: Iterable<string>): void {
    this.listeners.notify(queues);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.syncer.close();
  }
}
