/**
 * A queue's pool of worker threads (piscina), for jobs that may block: a busy loop inside a thread
 * cannot stop the executor's event loop, so lease renewals, claims and the other workers carry on.
 *
 * Piscina is the pool because it is the Node.js project's own well-kept one: it sizes and reuses
 * threads, queues tasks, transfers MessagePorts, and terminates a thread whose task is aborted
 * through an AbortSignal (a blocked thread cannot be interrupted any other way) and replaces it.
 */
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { Piscina } from 'piscina';
import {
  InvalidOptionError,
  deserializeResult,
  type ClaimedJob,
  type JobContext,
  type JobRegistry,
} from '@oddjob/core';
import { unreachable } from '../unreachable.js';
import type { HostMessage, SandboxResult, SandboxTask, ThreadMessage } from './protocol.js';

/** How a queue runs its jobs in worker threads (QueueOptions.sandbox). */
export interface SandboxOptions {
  /**
   * The module each thread imports to find the job classes: a file URL (`new URL('./jobs.js',
   * import.meta.url)`) or an absolute path. It registers its targets with @job (core's
   * defaultRegistry) or exports a `registry`. The executor's own registry must hold the same targets:
   * a job runs in a thread only if it is registered on both sides.
   */
  module: URL | string;
  /**
   * Per target: only jobs of these targets (registered names) run in threads; the queue's other
   * jobs run on the event loop as usual. Default: every job of the queue runs in a thread.
   */
  targets?: readonly string[];
  /** Threads in the pool. Default: the queue's workers (each worker waits for its own thread). */
  threads?: number;
  /** An idle thread ends after this long. Default 30 000 ms. */
  idleTimeoutMs?: number;
}

const THREAD_FILE = fileURLToPath(new URL('./thread.js', import.meta.url));

/** Raised in place of a run that the thread reported as thrown: keeps the job's own error name. */
export class SandboxedJobError extends Error {
  constructor(name: string, message: string, stack: string | undefined) {
    super(message);
    this.name = name;
    if (stack !== undefined) this.stack = stack;
  }
}

export function resolveSandboxOptions(
  options: SandboxOptions,
  workers: number,
): { module: string; threads: number; idleTimeoutMs: number; targets: ReadonlySet<string> | null } {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('sandbox', 'must be an object with a module');
  const raw = options.module;
  let module: string;
  if (raw instanceof URL) module = raw.href;
  else if (typeof raw === 'string' && raw.startsWith('file:')) module = raw;
  else if (typeof raw === 'string' && isAbsolute(raw)) module = pathToFileURL(raw).href;
  else throw new InvalidOptionError('sandbox.module', 'must be a file URL or an absolute path');
  const threads = options.threads ?? workers;
  if (!Number.isInteger(threads) || threads < 1)
    throw new InvalidOptionError('sandbox.threads', `must be an integer >= 1, got ${String(threads)}`);
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1)
    throw new InvalidOptionError('sandbox.idleTimeoutMs', `must be an integer >= 1, got ${String(idleTimeoutMs)}`);
  const targets = options.targets ?? null;
  if (
    targets !== null &&
    (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === 'string' && t !== ''))
  )
    throw new InvalidOptionError('sandbox.targets', 'must be a non-empty list of registered target names');
  return { module, threads, idleTimeoutMs, targets: targets === null ? null : new Set(targets) };
}

/**
 * Refuses a `targets` entry the executor's registry does not hold: a misspelt name would otherwise
 * leave that target on the event loop without a word. Called before the queue spawns anything.
 */
export function checkSandboxTargets(options: SandboxOptions, registry: JobRegistry): void {
  for (const name of options.targets ?? []) {
    if (!registry.has(name))
      throw new InvalidOptionError('sandbox.targets', `'${name}' is not a target registered with this executor`);
  }
}

export class SandboxPool {
  private readonly pool: Piscina;
  private readonly module: string;
  private readonly targets: ReadonlySet<string> | null;

  constructor(options: SandboxOptions, workers: number) {
    const resolved = resolveSandboxOptions(options, workers);
    this.module = resolved.module;
    this.targets = resolved.targets;
    this.pool = new Piscina({
      filename: THREAD_FILE,
      minThreads: 0,
      maxThreads: resolved.threads,
      // One run per thread at a time: a second task queued behind a blocking one would wait for it.
      concurrentTasksPerWorker: 1,
      idleTimeout: resolved.idleTimeoutMs,
    });
  }

  /** Whether jobs of this target run in a thread (sandbox.targets), or on the event loop. */
  takes(target: string): boolean {
    return this.targets === null || this.targets.has(target);
  }

  /**
   * Runs the job in a thread; resolves with the method's return value, rejects with its error. When
   * `signal` aborts (timeout, cancel, lost lease, shutdown) the thread is terminated and replaced,
   * and the run rejects with the signal's reason: the job is in whatever state it left itself.
   */
  async run(job: ClaimedJob, ctx: JobContext, signal: AbortSignal): Promise<unknown> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (msg: ThreadMessage) => this.onMessage(msg, ctx, port1));
    const task: SandboxTask = {
      module: this.module,
      jobId: job.id,
      queue: job.queue,
      target: job.target,
      method: job.method,
      args: job.args,
      attempt: job.attempts,
      maxAttempts: job.retry.maxAttempts,
      metadata: job.metadata,
      port: port2,
    };
    try {
      const result = (await this.pool.run(task, { transferList: [port2], signal })) as SandboxResult;
      switch (result.kind) {
        case 'returned':
          return deserializeResult(result.value, job.id);
        case 'threw':
          throw new SandboxedJobError(result.error.name, result.error.message, result.error.stack);
        default:
          return unreachable(result);
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      port1.close();
    }
  }

  private onMessage(msg: ThreadMessage, ctx: JobContext, port: import('node:worker_threads').MessagePort): void {
    switch (msg.kind) {
      case 'progress':
        void ctx.reportProgress(msg.progress, msg.message ?? undefined).then((held) => {
          const answer: HostMessage = { kind: 'progress-ack', id: msg.id, held };
          try {
            port.postMessage(answer);
          } catch {
            // the run ended meanwhile: nobody waits for the answer
          }
        });
        return;
      case 'log':
        ctx.logger[msg.level](msg.obj, msg.msg);
        return;
      case 'log-line':
        ctx.logAt(msg.level, msg.text);
        return;
      default:
        unreachable(msg);
    }
  }

  /** Ends the threads; runs still going are terminated (the queue has released them by then). */
  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
