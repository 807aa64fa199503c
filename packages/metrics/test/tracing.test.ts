import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { JobRegistry, MemoryJobStore, Retry, job } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { instrumentShell, parseTraceparent, tracedAdder, TRACEPARENT_KEY } from '../src/index.js';

const registry = new JobRegistry();

@job('traced', registry)
class Traced {
  async run(): Promise<void> {}
  /** Makes a span of its own, as a job calling an instrumented library would. */
  async nested(): Promise<void> {
    const span = trace.getTracer('job-code').startSpan('inside the job');
    await new Promise((r) => setTimeout(r, 1));
    span.end();
  }
  async fail(): Promise<void> {
    throw new Error('traced failure');
  }
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('@oddjob/metrics: tracing', function () {
  this.timeout(30_000);

  describe('without an SDK', () => {
    it('adds no traceparent and still writes the job', async () => {
      const store = new MemoryJobStore();
      const id = await tracedAdder(store.adder({ registry })).addJob(Traced, (t) => t.run(), { metadata: { a: 1 } });
      expect((await store.getJob(id))?.metadata).to.deep.equal({ a: 1 });
    });
  });

  it('instrumented before an SDK is registered: no spans while there is none, spans for runs after it is', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const store = new MemoryJobStore();
    const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
    const off = instrumentShell(shell);
    const adder = store.adder({ registry });
    try {
      shell.startJobQueue('late', { workers: 1, pulseMs: 20 });
      const before = await adder.addJob(Traced, (t) => t.run(), { queue: 'late' });
      await until(async () => (await store.getJob(before))?.status === 'done');
      trace.setGlobalTracerProvider(provider);
      const after = await adder.addJob(Traced, (t) => t.run(), { queue: 'late' });
      await until(async () => exporter.getFinishedSpans().length > 0);
      expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['messaging.message.id']])).to.deep.equal([
        ['process late', after],
      ]);
    } finally {
      off();
      await shell.shutdown();
      trace.disable();
    }
  });

  describe('with an SDK', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const manager = new AsyncLocalStorageContextManager();
    before(() => {
      context.setGlobalContextManager(manager.enable());
      trace.setGlobalTracerProvider(provider);
    });
    after(() => {
      trace.disable();
      context.disable();
    });
    beforeEach(() => exporter.reset());

    const finished = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

    it('makes a producer span under the request, carries its traceparent, and a consumer span per run as its child', async () => {
      const store = new MemoryJobStore();
      const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
      const off = instrumentShell(shell);
      const adder = tracedAdder(store.adder({ registry }), { registry });
      try {
        const tracer = trace.getTracer('app');
        const [ok, bad] = await tracer.startActiveSpan('request', async (span) => {
          try {
            return [
              await adder.addJob(Traced, (t) => t.run(), { queue: 'tq' }),
              await adder.addJob(Traced, (t) => t.fail(), { queue: 'tq', retry: Retry.fixed(2, 0) }),
            ];
          } finally {
            span.end();
          }
        });
        const request = finished('request')[0];
        const sends = finished('send tq');
        expect(sends).to.have.length(2);
        for (const s of sends) {
          expect(s.kind).to.equal(SpanKind.PRODUCER);
          expect(s.parentSpanContext?.spanId).to.equal(request.spanContext().spanId);
          expect(s.attributes).to.include({ 'messaging.system': 'oddjob', 'messaging.destination.name': 'tq' });
        }
        const okJob = (await store.getJob(ok))!;
        expect(sends[0].attributes['messaging.message.id']).to.equal(ok);
        expect(parseTraceparent(okJob.metadata[TRACEPARENT_KEY])?.spanId).to.equal(sends[0].spanContext().spanId);

        shell.startJobQueue('tq', { workers: 1, pulseMs: 20 });
        await until(
          async () => (await store.getJob(bad))?.status === 'failed' && (await store.getJob(ok))?.status === 'done',
        );
        await until(async () => finished('process tq').length === 3);
        const runs = finished('process tq');
        const okRun = runs.find((r) => r.attributes['messaging.message.id'] === ok)!;
        expect(okRun.kind).to.equal(SpanKind.CONSUMER);
        expect(okRun.spanContext().traceId).to.equal(request.spanContext().traceId);
        expect(okRun.parentSpanContext?.spanId).to.equal(sends[0].spanContext().spanId);
        expect(okRun.attributes).to.include({
          'messaging.system': 'oddjob',
          'messaging.destination.name': 'tq',
          'oddjob.job.attempt': 1,
          'oddjob.job.outcome': 'succeeded',
        });
        expect(okRun.status.code).to.equal(SpanStatusCode.OK);
        const badRuns = runs
          .filter((r) => r.attributes['messaging.message.id'] === bad)
          .sort((a, b) => Number(a.attributes['oddjob.job.attempt']) - Number(b.attributes['oddjob.job.attempt']));
        expect(
          badRuns.map((r) => [r.attributes['oddjob.job.attempt'], r.attributes['oddjob.job.outcome'], r.status.code]),
        ).to.deep.equal([
          [1, 'retry', SpanStatusCode.ERROR],
          [2, 'failed', SpanStatusCode.ERROR],
        ]);
        expect(badRuns[1].status.message).to.equal('traced failure');
      } finally {
        off();
        await shell.shutdown();
      }
    });

    it("makes the run's span the active context inside the job, so the job's own spans are its children", async () => {
      const store = new MemoryJobStore();
      const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
      const off = instrumentShell(shell);
      try {
        const id = await store.adder({ registry }).addJob(Traced, (t) => t.nested(), { queue: 'nq' });
        shell.startJobQueue('nq', { workers: 1, pulseMs: 20 });
        await until(async () => finished('process nq').length === 1 && finished('inside the job').length === 1);
        const [run] = finished('process nq');
        const [inner] = finished('inside the job');
        expect(run.attributes['messaging.message.id']).to.equal(id);
        expect(inner.spanContext().traceId).to.equal(run.spanContext().traceId);
        expect(inner.parentSpanContext?.spanId).to.equal(run.spanContext().spanId);
      } finally {
        off();
        await shell.shutdown();
      }
    });

    it('links a run to a producer in another process through the stored traceparent', async () => {
      const root = await mkdtemp(join(tmpdir(), 'oddjob-otel-'));
      try {
        const dir = join(root, 'store');
        await FileJobStore.create(dir);
        const script = fileURLToPath(new URL('./fixtures/produce.js', import.meta.url));
        const { stdout } = await promisify(execFile)(process.execPath, [script, dir]);
        const produced = JSON.parse(stdout) as {
          id: string;
          spans: { name: string; traceId: string; spanId: string; parent?: string }[];
        };
        const send = produced.spans.find((s) => s.name === 'send tq')!;
        const request = produced.spans.find((s) => s.name === 'POST /signup')!;
        expect(send.parent).to.equal(request.spanId);

        const store = await FileJobStore.open({ dir });
        const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
        const off = instrumentShell(shell);
        try {
          shell.startJobQueue('tq', { workers: 1, pulseMs: 20 });
          await until(async () => finished('process tq').length === 1);
          const run = finished('process tq')[0];
          expect(run.attributes['messaging.message.id']).to.equal(produced.id);
          expect(run.spanContext().traceId).to.equal(request.traceId);
          expect(run.parentSpanContext?.spanId).to.equal(send.spanId);
          expect(run.parentSpanContext?.isRemote).to.equal(true);
        } finally {
          off();
          await shell.shutdown();
          await store.close();
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });

  it('parses only well-formed traceparents', () => {
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).to.deep.include({
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    for (const bad of [
      undefined,
      42,
      '',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      'zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ]) {
      expect(parseTraceparent(bad)).to.equal(null);
    }
  });
});
