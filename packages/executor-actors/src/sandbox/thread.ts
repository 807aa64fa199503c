/**
 * The worker-thread side of the sandbox: piscina loads this file in each thread and calls the
 * default export once per run. The thread imports the queue's module (once per thread), finds the
 * target in that module's registry — the module's exported `registry`, else core's defaultRegistry,
 * which @job writes to — and runs the method with a JobContext whose progress and log lines go back
 * to the executor over the task's port. The executor resolved the same target and method in its own
 * registry before sending the task, so a stored name reaches here only if both sides registered it.
 */
import { pathToFileURL } from 'node:url';
import {
  JobRegistry,
  defaultRegistry,
  describeValue,
  newInstanceFactory,
  type IContainerFactory,
  type IJobScope,
  deserializeArgs,
  runWithJobContext,
  formatLogParts,
  serializeResult,
  toJobError,
  type JobContext,
  type JobLogger,
  type JobProgress,
  type LogLevel,
} from '@oddjob/core';
import type { HostMessage, SandboxResult, SandboxTask, ThreadMessage } from './protocol.js';

/** What a thread takes from the queue's module: where its targets are and how they are built. */
interface ThreadModule {
  registry: JobRegistry;
  containers: IContainerFactory;
}

const modules = new Map<string, Promise<ThreadModule>>();

/**
 * Imports the module once per thread. DI: the executor's container cannot cross a thread boundary
 * (it holds live objects), so the module may export `containers`, an IContainerFactory built in the
 * thread (e.g. `new InversifyContainerFactory(container)` over a container the module sets up); a
 * scope is opened per run and disposed after it. Without one, targets are built with `new Target()`.
 */
function moduleOf(module: string): Promise<ThreadModule> {
  let found = modules.get(module);
  if (found === undefined) {
    found = import(module.startsWith('file:') ? module : pathToFileURL(module).href).then(
      (mod: { registry?: unknown; containers?: unknown }) => ({
        registry: mod.registry instanceof JobRegistry ? mod.registry : defaultRegistry,
        containers: isContainerFactory(mod.containers) ? mod.containers : newInstanceFactory,
      }),
    );
    modules.set(module, found);
  }
  return found;
}

function isContainerFactory(value: unknown): value is IContainerFactory {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { createScope?: unknown }).createScope === 'function'
  );
}

function threadLogger(port: SandboxTask['port'], bindings: Record<string, unknown>): JobLogger {
  const send = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: object, msg?: string) => {
    const message: ThreadMessage = {
      kind: 'log',
      level,
      obj: { ...bindings, ...toCloneable(obj) },
      ...(msg === undefined ? {} : { msg }),
    };
    port.postMessage(message);
  };
  return { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error') };
}

/** Log objects may hold anything; what cannot be cloned is sent as text instead of failing the job. */
function toCloneable(obj: object): Record<string, unknown> {
  try {
    return structuredClone(obj) as Record<string, unknown>;
  } catch {
    return { logged: describeValue(obj) };
  }
}

class ThreadContext implements JobContext {
  private nextId = 0;
  private readonly waiting = new Map<number, (held: boolean) => void>();
  /** Never aborted from inside: an aborted run's thread is terminated (a blocked thread could not see a signal). */
  readonly signal = new AbortController().signal;
  readonly logger: JobLogger;

  constructor(private readonly task: SandboxTask) {
    this.logger = threadLogger(task.port, {
      jobId: task.jobId,
      queue: task.queue,
      target: task.target,
      method: task.method,
      attempt: task.attempt,
      sandbox: true,
    });
    task.port.on('message', (msg: HostMessage) => {
      this.waiting.get(msg.id)?.(msg.held);
      this.waiting.delete(msg.id);
    });
  }
  get jobId() {
    return this.task.jobId;
  }
  get queue() {
    return this.task.queue;
  }
  get attempt() {
    return this.task.attempt;
  }
  get maxAttempts() {
    return this.task.maxAttempts;
  }
  get metadata() {
    return this.task.metadata;
  }
  reportProgress(progress: JobProgress, message?: string): Promise<boolean> {
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      this.waiting.set(id, resolve);
      const sent: ThreadMessage = { kind: 'progress', id, progress, message: message ?? null };
      this.task.port.postMessage(sent);
    });
  }
  log(...parts: unknown[]): void {
    this.logAt('info', ...parts);
  }
  logAt(level: LogLevel, ...parts: unknown[]): void {
    const sent: ThreadMessage = { kind: 'log-line', level, text: formatLogParts(parts) };
    this.task.port.postMessage(sent);
  }
  /** Answers the reports still waiting when the run ends, so no promise in the job is left hanging. */
  close(): void {
    for (const resolve of this.waiting.values()) resolve(true);
    this.waiting.clear();
    this.task.port.close();
  }
}

export default async function runInThread(task: SandboxTask): Promise<SandboxResult> {
  const ctx = new ThreadContext(task);
  let scope: IJobScope | null = null;
  try {
    const { registry, containers } = await moduleOf(task.module);
    const target = registry.resolveTarget(task.target);
    const method = registry.resolveMethod(task.target, task.method);
    const args = deserializeArgs(task.args, task.jobId);
    scope = containers.createScope();
    const instance: unknown = scope.resolve(target);
    const value: unknown = await runWithJobContext(ctx, () => method.apply(instance, args));
    // Serialized here, as an in-process run does it: a value that cannot be stored fails the job
    // with a JobResultError (caught below, its name kept across the boundary).
    return { kind: 'returned', value: serializeResult(value, task.jobId) };
  } catch (error) {
    return { kind: 'threw', error: toJobError(error) };
  } finally {
    try {
      await scope?.dispose();
    } catch (err) {
      ctx.logger.warn({ reason: String(err) }, 'oddjob: disposing the job scope failed');
    }
    ctx.close();
  }
}
