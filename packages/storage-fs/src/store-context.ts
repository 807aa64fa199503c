import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '@oddjob/core';
import { decodeContent, UnreadableFileError, type JobContent } from './content.js';
import { DirSyncer, isMissing, unlinkQuietly } from './durable.js';
import { decodeComponent, Layout, parseName, STATE_DIRS, type ParsedName, type StateDir } from './layout.js';

/** A job file found in a state directory. */
export interface Located<N extends ParsedName = ParsedName> {
  queue: string;
  name: string;
  parsed: N;
}

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
  private readonly knownQueues = new Set<string>();
  private readonly jobLocks = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(queue: string) => void>();

  constructor(
    root: string,
    readonly clock: Clock,
  ) {
    this.layout = new Layout(root);
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

  async listQueues(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.layout.queues);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    return names.map(decodeComponent);
  }

  /** The parsed job files of one state directory; files with names we did not write are moved aside. */
  async listState(queue: string, state: StateDir): Promise<Located[]> {
    let names: string[];
    try {
      names = await readdir(this.layout.stateDir(queue, state));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const out: Located[] = [];
    for (const name of names) {
      const parsed = parseName(state, name);
      if (parsed) out.push({ queue, name, parsed });
      else await this.quarantine(queue, state, name, `file name "${name}" is not one this store writes in ${state}/`);
    }
    return out;
  }

  /** Reads a job file. Throws ENOENT if it moved, UnreadableFileError if its content is bad. */
  async readContent(queue: string, state: StateDir, name: string): Promise<JobContent> {
    const text = await readFile(this.layout.file(queue, state, name), 'utf8');
    const content = decodeContent(text);
    const parsed = parseName(state, name);
    if (parsed && content.id !== parsed.id) throw new UnreadableFileError(`the file holds job ${content.id}, but its name says ${parsed.id}`);
    if (content.queue !== queue) throw new UnreadableFileError(`the file holds a job of queue "${content.queue}" but lies in queue "${queue}"`);
    return content;
  }

  /**
   * Reads a job file, moving it to corrupt/ if it cannot be read. Returns null if the file is gone
   * (another process moved it) or was corrupt.
   */
  async readOrQuarantine(queue: string, state: StateDir, name: string): Promise<JobContent | null> {
    try {
      return await this.readContent(queue, state, name);
    } catch (err) {
      if (isMissing(err)) return null;
      if (err instanceof UnreadableFileError) {
        await this.quarantine(queue, state, name, err.message);
        return null;
      }
      throw err;
    }
  }

  /**
   * Moves a file that cannot be a job aside, to corrupt/, with a `.reason` file beside it. The reason
   * is written first: a crash in between leaves the file where it was, to be found again.
   */
  async quarantine(queue: string, state: StateDir, name: string, reason: string): Promise<void> {
    // The queue and state are in the reason file; the name stays within the 255-byte limit.
    const base = `${randomBytes(4).toString('hex')}~${name}`;
    const target = join(this.layout.corrupt, base);
    const reasonFile = `${target}.reason`;
    await writeFile(reasonFile, `${new Date(this.nowMs()).toISOString()} ${queue}/${state}/${name}: ${reason}\n`);
    try {
      await rename(this.layout.file(queue, state, name), target);
    } catch (err) {
      await unlinkQuietly(reasonFile);
      if (isMissing(err)) return;
      throw err;
    }
    this.runningNames.forEach((loc, id) => {
      if (loc.name === name) this.runningNames.delete(id);
    });
    await this.syncer.syncAll([this.layout.corrupt, this.layout.stateDir(queue, state)]);
  }

  async listCorrupt(): Promise<CorruptFile[]> {
    const names = await readdir(this.layout.corrupt);
    const out: CorruptFile[] = [];
    for (const n of names.filter((n) => !n.endsWith('.reason')).sort()) {
      const reason = await readFile(join(this.layout.corrupt, `${n}.reason`), 'utf8').catch(() => '(no reason recorded)');
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
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(queues: Iterable<string>): void {
    for (const listener of this.listeners) {
      for (const q of queues) {
        try {
          listener(q);
        } catch {
          // A listener's failure is its own: the write it reports on has already happened.
        }
      }
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.syncer.close();
  }
}
