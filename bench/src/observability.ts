/**
 * The cost of @oddjob/metrics on the executor: no-op jobs drained from the memory store by 10
 * workers, three ways, interleaved over rounds (median of each):
 *  - plain: no metrics, no tracing;
 *  - observed: collectMetrics + instrumentShell + countedAdder + tracedAdder, no OpenTelemetry SDK
 *    registered (what most users run: the target is within 5% of plain);
 *  - observed + SDK: the same with a BasicTracerProvider whose batch processor hands spans to an
 *    exporter that drops them (the SDK's own cost, not an exporter's network).
 *
 *   node bench/dist/src/observability.js [jobs=50000] [rounds=5]
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { JobRegistry, MemoryJobStore, job, type IJobQueueAdder } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { collectMetrics, countedAdder, instrumentShell, tracedAdder } from '@oddjob/metrics';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

type Mode = 'plain' | 'observed' | 'observed+sdk';

const registry = new JobRegistry();
@job('obs-noop', registry)
class Noop {
  run(): void {}
}

/** An exporter that accepts and drops: measures the SDK, not a collector. */
const dropExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) {
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};

interface Result {
  mode: Mode;
  enqueuePerSec: number;
  drainPerSec: number;
  cpuUsPerJob: number;
}

async function once(mode: Mode, jobs: number): Promise<Result> {
  let provider: BasicTracerProvider | undefined;
  if (mode === 'observed+sdk') {
    provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(dropExporter, { maxQueueSize: 100_000, maxExportBatchSize: 2048 })],
    });
    trace.setGlobalTracerProvider(provider);
  }
  const store = new MemoryJobStore();
  const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
  let adder: IJobQueueAdder = store.adder({ registry });
  let untrace = (): void => undefined;
  if (mode !== 'plain') {
    const metrics = collectMetrics({ shell, admin: store });
    untrace = instrumentShell(shell);
    adder = tracedAdder(countedAdder(adder, metrics, registry), { registry });
  }
  let done = 0;
  let resolveDone!: () => void;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  shell.on('job:succeeded', () => {
    if (++done === jobs) resolveDone();
  });
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 500) {
    const n = Math.min(500, jobs - i);
    await adder.addJobs(
      Array.from({ length: n }, () => ({ target: Noop, call: (j: Noop) => j.run(), options: { queue: 'obs' } })),
    );
  }
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  shell.startJobQueue('obs', { workers: 10, pulseMs: 10, maxPending: 500 });
  await allDone;
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await shell.shutdown();
  untrace();
  if (provider !== undefined) {
    await provider.shutdown();
    trace.disable();
  }
  return {
    mode,
    enqueuePerSec: jobs / ((t1 - t0) / 1000),
    drainPerSec: jobs / ((t2 - t1) / 1000),
    cpuUsPerJob: (cpu.user + cpu.system) / jobs,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(args: string[] = process.argv.slice(2)): Promise<Record<Mode, Result>> {
  const jobs = Number(args[0] ?? 50_000);
  const rounds = Number(args[1] ?? 5);
  const modes: Mode[] = ['plain', 'observed', 'observed+sdk'];
  await once('plain', 5000); // warm-up: JIT, first allocations
  const all: Record<Mode, Result[]> = { plain: [], observed: [], 'observed+sdk': [] };
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round, so no mode always runs first (cold) or last.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(r + k) % modes.length];
      all[mode].push(await once(mode, jobs));
    }
  }
  const out = {} as Record<Mode, Result>;
  console.log(`${jobs} no-op jobs, 10 workers, memory store, ${rounds} interleaved rounds (medians)`);
  console.log('mode            enqueue jobs/s   drain jobs/s   CPU µs/job (drain)');
  for (const mode of modes) {
    const rs = all[mode];
    out[mode] = {
      mode,
      enqueuePerSec: median(rs.map((x) => x.enqueuePerSec)),
      drainPerSec: median(rs.map((x) => x.drainPerSec)),
      cpuUsPerJob: median(rs.map((x) => x.cpuUsPerJob)),
    };
    const o = out[mode];
    console.log(
      `${mode.padEnd(14)} ${o.enqueuePerSec.toFixed(0).padStart(15)} ${o.drainPerSec.toFixed(0).padStart(14)} ${o.cpuUsPerJob.toFixed(1).padStart(20)}`,
    );
  }
  const p = out.plain;
  console.log(
    `observed vs plain: drain ${((out.observed.drainPerSec / p.drainPerSec - 1) * 100).toFixed(1)}%, CPU per job ${(out.observed.cpuUsPerJob - p.cpuUsPerJob).toFixed(1)} µs`,
  );
  console.log(
    `with an SDK: CPU per job +${(out['observed+sdk'].cpuUsPerJob - p.cpuUsPerJob).toFixed(1)} µs over plain (drain ${((out['observed+sdk'].drainPerSec / p.drainPerSec - 1) * 100).toFixed(1)}%)`,
  );
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
