import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig } from './fixtures/worker.js';
import { waitFor } from './wait.js';

/** The compiled worker script, beside this file once compiled (dist/test/fixtures/worker.js). */
const WORKER_JS = fileURLToPath(new URL('./fixtures/worker.js', import.meta.url));

/** A worker process as the test sees it. */
export class WorkerProcess {
  readonly proc: ChildProcess;
  /** Resolves when the process ended, with its exit code or the signal that ended it; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = '';
  private err = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly config: WorkerConfig,
    /** The compiled worker script to run (default: the PostgreSQL RecordingJob worker). */
    script: string = WORKER_JS,
  ) {
    this.proc = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get label(): string {
    return this.config.label;
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  get isReady(): boolean {
    return /^ready$/m.test(this.out);
  }

  /** Executions the worker reported when it stopped gracefully, or null. */
  get reportedExecutions(): number | null {
    const m = /^stopped (\d+)$/m.exec(this.out);
    return m ? Number(m[1]) : null;
  }

  /** The last lines of its stderr (its warnings and errors), for failure messages. */
  tail(lines = 15): string {
    return this.err.trim().split('\n').slice(-lines).join('\n');
  }

  /** Throws if the process ended while the test still expected it to run. */
  assertAlive(): void {
    if (this.exit) {
      throw new Error(
        `worker ${this.label} exited early (code ${this.exit.code}, signal ${this.exit.signal}):\n${this.tail()}`,
      );
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.proc.kill(signal);
  }
}

export function startWorkers(configs: readonly WorkerConfig[]): WorkerProcess[] {
  return configs.map((c) => new WorkerProcess(c));
}

export async function waitReady(workers: readonly WorkerProcess[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    'every worker to be ready',
    () => {
      for (const w of workers) w.assertAlive();
      return workers.every((w) => w.isReady);
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * SIGTERM, then waits for each process to exit by itself: a graceful shutdown that leaves a timer,
 * socket or actor behind would keep the process alive and fail here.
 */
export async function stopGracefully(workers: readonly WorkerProcess[], timeoutMs = 30_000): Promise<void> {
  for (const w of workers) w.kill('SIGTERM');
  await waitFor('the workers to exit after SIGTERM', () => workers.every((w) => w.hasExited), {
    timeoutMs,
    intervalMs: 50,
    status: () =>
      workers
        .filter((w) => !w.hasExited)
        .map((w) => `${w.label} still running:\n${w.tail()}`)
        .join('\n'),
  });
  for (const w of workers) {
    const exit = await w.exited;
    if (exit.code !== 0)
      throw new Error(`worker ${w.label} exited with code ${exit.code} (signal ${exit.signal}):\n${w.tail()}`);
  }
}

/** For afterEach: whatever happened, no worker outlives its test. */
export async function killAll(workers: readonly WorkerProcess[]): Promise<void> {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}
