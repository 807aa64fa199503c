import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobRegistry, Scheduler, type IContainerFactory } from '@oddjob/core';
import type { QueueOptions } from '@oddjob/executor-actors';
import { Command } from 'commander';
import { oneTarget, withStore } from '../context.js';
import { CliError } from '../errors.js';

export function port(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new CliError(`port ${JSON.stringify(value)}: must be an integer from 0 to 65535`);
  return n;
}

export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolveSignal(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

interface WorkerModule {
  registry?: unknown;
  containers?: IContainerFactory;
  queues?: { name: string; options?: QueueOptions }[];
}

export async function loadWorkerModule(path: string): Promise<{
  registry: JobRegistry;
  containers?: IContainerFactory;
  queues: { name: string; options?: QueueOptions }[];
}> {
  let mod: WorkerModule;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as WorkerModule;
  } catch (err) {
    throw new CliError(`cannot load worker module ${path}: ${(err as Error).message}`);
  }
  if (!(mod.registry instanceof JobRegistry)) {
    throw new CliError(
      `worker module ${path} must export \`registry\` (a JobRegistry from @oddjob/core${mod.registry !== undefined ? '; the one it exports is not, perhaps from another copy of @oddjob/core' : ''})`,
    );
  }
  const queues = mod.queues ?? [];
  if (!Array.isArray(queues) || queues.some((q) => typeof q?.name !== 'string')) {
    throw new CliError(`worker module ${path}: \`queues\` must be an array of { name, options? }`);
  }
  return { registry: mod.registry, containers: mod.containers, queues };
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'run an executor for a module that exports `registry` (a JobRegistry), optionally `containers` and `queues`',
    )
    .argument('<module>', 'path of the JavaScript module (ESM)')
    .option('--queue <name...>', 'queues to run (default the module\'s `queues`, else "default")')
    .option('--workers <n>', 'workers per queue given with --queue (default 4)')
    .option('--schedules', 'also fire due schedules from this process')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:PORT/metrics')
    .action(
      async (
        path: string,
        o: { queue?: string[]; workers?: string; schedules?: boolean; metricsPort?: string },
        cmd: Command,
      ) => {
        oneTarget(cmd); // several tenants and no --tenant: say so before importing the user's module
        const [{ JobExecutorShell }, { collectMetrics, instrumentShell, serveMetrics }] = await Promise.all([
          import('@oddjob/executor-actors'),
          import('@oddjob/metrics'),
        ]);
        const mod = await loadWorkerModule(path);
        const workers = o.workers === undefined ? 4 : Number(o.workers);
        if (!Number.isInteger(workers) || workers < 1)
          throw new CliError(`--workers ${JSON.stringify(o.workers)}: must be an integer >= 1`);
        const queues =
          o.queue !== undefined
            ? o.queue.map((name) => ({ name, options: { workers } }))
            : mod.queues.length > 0
              ? mod.queues
              : [{ name: 'default', options: { workers } }];
        await withStore(cmd, async (store, tenant) => {
          const schedulers = o.schedules
            ? [new Scheduler({ store: store.schedules, writer: store.writer, registry: mod.registry })]
            : [];
          const shell = new JobExecutorShell({
            store: store.manager,
            registry: mod.registry,
            containers: mod.containers,
            schedulers,
          });
          const registry = collectMetrics({ shell, admin: store.admin });
          const untrace = instrumentShell(shell);
          const metricsServer =
            o.metricsPort === undefined ? undefined : await serveMetrics(registry, { port: port(o.metricsPort, 9464) });
          for (const q of queues) shell.startJobQueue(q.name, q.options);
          process.stdout.write(
            `worker on ${tenant === undefined ? '' : `tenant ${tenant}: `}${store.spec.describe}: queues ${queues.map((q) => q.name).join(', ')}${metricsServer ? `; metrics ${metricsServer.url}` : ''}\n`,
          );
          const signal = await untilSignal();
          process.stderr.write(`${signal}: stopping (running jobs get time to finish) ...\n`);
          await shell.shutdown();
          untrace();
          await metricsServer?.close();
          process.stdout.write('worker stopped\n');
        });
      },
    );
}
