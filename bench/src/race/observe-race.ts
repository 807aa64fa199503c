/**
 * The race's OddJob contender without and with @oddjob/metrics (ODDJOB_OBSERVE=1), and with an
 * OpenTelemetry SDK registered, interleaved in one process (off, on, sdk; next round rotated) so a
 * busy stretch of the shared machine hits every mode; prints the medians. This is the check of
 * "metrics and tracing with no SDK stay within 5% of without" on a real store.
 *
 *   node bench/dist/src/race/observe-race.js [rounds=7] [modes=off,on,sdk]
 *   (RACE_JOBS etc. as for the race; RACE_ENQUEUE_ONE and RACE_LATENCY_JOBS may be small here)
 */
import { pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { raceOptionsFromEnv } from './run-competitors.js';
import { raceOddJob } from './oddjob.js';
import { median } from './measure.js';
import type { RaceResult } from './types.js';

type Mode = 'off' | 'on' | 'sdk';

/** Accepts and drops: the SDK's own cost, not a collector's. */
const dropExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) {
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};

async function once(mode: Mode): Promise<RaceResult> {
  process.env.ODDJOB_OBSERVE = mode === 'off' ? '0' : '1';
  let provider: BasicTracerProvider | undefined;
  if (mode === 'sdk') {
    provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(dropExporter, { maxQueueSize: 100_000, maxExportBatchSize: 2048 })],
    });
    trace.setGlobalTracerProvider(provider);
  }
  try {
    return await raceOddJob(raceOptionsFromEnv());
  } finally {
    if (provider !== undefined) {
      await provider.shutdown();
      trace.disable();
    }
  }
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const rounds = Number(args[0] ?? 7);
  const modes = (args[1] ?? 'off,on,sdk').split(',') as Mode[];
  for (const m of modes)
    if (m !== 'off' && m !== 'on' && m !== 'sdk') throw new Error(`unknown mode ${String(m)} (off, on, sdk)`);
  await once('off'); // warm-up: JIT, connections, the schema's first migration
  const all = new Map<Mode, RaceResult[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(r + k) % modes.length];
      const res = await once(mode);
      all.get(mode)!.push(res);
      console.log(
        `round ${r + 1} ${mode.padEnd(3)} ${res.processJobsPerSec.toFixed(0).padStart(7)} jobs/s, enqueue batch ${res.enqueueBatchJobsPerSec.toFixed(0)} jobs/s, node ${res.processCpuUsPerJob?.node.toFixed(1)} µs/job, postgres ${res.processCpuUsPerJob?.postgres.toFixed(1)} µs/job`,
      );
    }
  }
  console.log(`medians of ${rounds} interleaved rounds, ${raceOptionsFromEnv().jobs} jobs:`);
  const base = all.get('off');
  const baseRate = base === undefined ? Number.NaN : median(base.map((r) => r.processJobsPerSec));
  const baseCpu = base === undefined ? Number.NaN : median(base.map((r) => r.processCpuUsPerJob?.node ?? NaN));
  for (const [mode, rs] of all) {
    const rate = median(rs.map((r) => r.processJobsPerSec));
    const cpu = median(rs.map((r) => r.processCpuUsPerJob?.node ?? NaN));
    const pg = median(rs.map((r) => r.processCpuUsPerJob?.postgres ?? NaN));
    const batch = median(rs.map((r) => r.enqueueBatchJobsPerSec));
    console.log(
      `${mode.padEnd(3)} ${rate.toFixed(0).padStart(7)} jobs/s (${((rate / baseRate - 1) * 100).toFixed(1)}%), ` +
        `enqueue batch ${batch.toFixed(0)} jobs/s, ` +
        `node ${cpu.toFixed(1)} µs/job (${(cpu - baseCpu >= 0 ? '+' : '') + (cpu - baseCpu).toFixed(1)}), postgres ${pg.toFixed(1)} µs/job`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
