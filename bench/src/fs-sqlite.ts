/**
 * The anchor for the file-store bench: what a user would pick instead of an embedded file store,
 * a SQLite queue. plainjob 0.0.14 over better-sqlite3 12, in its own configuration (defineQueue
 * sets WAL and busy_timeout), with the one durability knob set per run:
 *
 * - synchronous=FULL: every commit fsyncs the WAL, so an acknowledged enqueue, claim or completion
 *   survives a power cut, as every acknowledged write of the file store does. The like-for-like
 *   figure.
 * - synchronous=NORMAL: what plainjob's defineQueue sets (the usual WAL advice): commits are not
 *   fsynced, only checkpoints are, so the last commits can be lost on power loss (not on a crash).
 *
 * Why plainjob and not liteque: liteque 0.8's dequeue passes an async function to a better-sqlite3
 * transaction, which better-sqlite3 refuses since 11.10 ("Transaction function cannot return a
 * promise"), so it does not run on better-sqlite3 12.
 *
 * The native binding is loaded only when the anchor runs (dynamic import), so the file-store figures
 * still come out on a Node whose ABI the binding was not built for; the anchor then says why it was
 * skipped. Built for Node 24.21 instead, better-sqlite3 12.11.1 aborts the process when the GC
 * finalizes a statement (an assertion in node::RemoveEnvironmentCleanupHook), so the anchor's
 * figures are Node 20 figures.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export type Synchronous = 'FULL' | 'NORMAL';

export type AnchorResult = AnchorRun | { kind: 'skipped'; synchronous: Synchronous; reason: string };

export interface AnchorRun {
  kind: 'ran';
  synchronous: Synchronous;
  jobs: number;
  workers: number;
  enqueueSeconds: number;
  processSeconds: number;
}

/** PRAGMA synchronous reads back as a number; anything else means the setting did not take. */
const SYNCHRONOUS_CODE: Record<Synchronous, number> = { NORMAL: 1, FULL: 2 };

/**
 * Enqueue `jobs` no-op jobs one at a time (queue.add: each is its own commit), then drain them with
 * `workers` plainjob workers on the one connection until every job is done.
 */
export async function sqliteAnchor(
  dir: string,
  jobs: number,
  workers: number,
  synchronous: Synchronous,
): Promise<AnchorResult> {
  const { better, defineQueue, defineWorker, JobStatus } = await import('plainjob');
  let database: import('better-sqlite3').Database;
  try {
    const { default: Database } = await import('better-sqlite3');
    // better-sqlite3 loads its native binding on the first open, so a binding built for another
    // Node ABI fails here, not at the import.
    database = new Database(join(dir, `plainjob-${synchronous.toLowerCase()}.db`));
  } catch (err) {
    // On one line: a binding built for another Node puts its NODE_MODULE_VERSION on the second.
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
    return { kind: 'skipped', synchronous, reason };
  }
  const queue = defineQueue({ connection: better(database), logger: quietLogger });
  // defineQueue sets synchronous=NORMAL; the pragma is per connection, so set it after, on the
  // connection the queue uses, and read both settings back.
  database.pragma(`synchronous = ${synchronous}`);
  const got = database.pragma('synchronous', { simple: true });
  const mode = database.pragma('journal_mode', { simple: true });
  if (got !== SYNCHRONOUS_CODE[synchronous] || mode !== 'wal')
    throw new Error(`SQLite anchor: asked for WAL + synchronous=${synchronous}, got ${String(mode)} + ${String(got)}`);

  try {
    const t0 = performance.now();
    for (let i = 0; i < jobs; i++) queue.add('noop', { target: 'noop', method: 'run', args: [i] });
    const enqueueSeconds = (performance.now() - t0) / 1000;

    let done = 0;
    let failed = 0;
    let onAllDone: () => void = () => {};
    const allDone = new Promise<void>((resolve) => (onAllDone = resolve));
    const pool = Array.from({ length: workers }, () =>
      defineWorker('noop', async () => {}, {
        queue,
        // The poll interval matches the file store's pulseMs; a worker only sleeps when it finds
        // nothing, which here is only at the end.
        pollIntervall: 100,
        logger: quietLogger,
        onCompleted: () => {
          if (++done === jobs) onAllDone();
        },
        onFailed: () => {
          failed++;
        },
      }),
    );
    const t1 = performance.now();
    const running = pool.map((w) => w.start());
    await allDone;
    const processSeconds = (performance.now() - t1) / 1000;
    await Promise.all(pool.map((w) => w.stop()));
    await Promise.all(running);
    if (failed !== 0) throw new Error(`SQLite anchor: ${failed} of ${jobs} no-op jobs failed`);
    const doneRows = queue.countJobs({ status: JobStatus.Done });
    if (doneRows !== jobs) throw new Error(`SQLite anchor: ${doneRows} of ${jobs} jobs recorded done`);
    return { kind: 'ran', synchronous, jobs, workers, enqueueSeconds, processSeconds };
  } finally {
    queue.close();
  }
}

/** plainjob logs each job at debug level and each worker stop at info; the bench prints a table. */
const quietLogger = {
  error: (...args: unknown[]) => console.error(...args),
  warn: (...args: unknown[]) => console.warn(...args),
  info: () => {},
  debug: () => {},
};
