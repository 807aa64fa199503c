import type { IJobQueueAdder, JobRegistry, JobSpec } from '@oddjob/core';
import {
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { wrapAdder } from './adders.js';
import type { ExecutorEventSource } from './events.js';

/** The metadata key the producer's W3C trace context travels under. */
export const TRACEPARENT_KEY = 'traceparent';
const TRACER_NAME = '@oddjob/metrics';
const SYSTEM = 'oddjob';

/** The API's own no-op provider: what its global proxy delegates to while no SDK is registered. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * True while no SDK is registered: the global provider is this API's proxy and still delegates to
 * the no-op. Asked per run (a global lookup and a comparison), so an SDK registered later is seen at
 * once. Anything else — an SDK, another copy of the API, a provider of the application's own —
 * answers false and gets real spans.
 */
function noSdk(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C traceparent of a span context, written here rather than through the global propagator:
 * the API's default propagator is a no-op until an SDK installs one, and many SDK setups install
 * none, yet the job must carry its parent whatever the producer configured. The format is one line.
 */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The remote parent a traceparent names, or null if it is absent or malformed (never throws: it is data). */
export function parseTraceparent(value: unknown): SpanContext | null {
  if (typeof value !== 'string') return null;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (m === null || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return null;
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true };
}

function withTraceparent(spec: JobSpec<unknown>, traceparent: string): JobSpec<unknown> {
  const options = spec.options ?? {};
  return {
    ...spec,
    options: { ...options, metadata: { ...(options.metadata ?? {}), [TRACEPARENT_KEY]: traceparent } },
  };
}

/**
 * An adder whose every call makes a PRODUCER span `send <queue>` (child of the active span) and
 * writes that span's traceparent into each job's metadata, so the run becomes its child even in
 * another process. With no SDK registered the span is a no-op and nothing is added to metadata.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function tracedAdder<A extends IJobQueueAdder<any>>(adder: A, options: { registry?: JobRegistry } = {}): A {
  return wrapAdder(
    adder,
    async (call, write) => {
      const tracer = trace.getTracer(TRACER_NAME);
      const queues = [...new Set(call.labels.map((l) => l.queue))];
      const queue = queues.length === 1 ? queues[0] : 'multiple';
      const attributes: Attributes = {
        'messaging.system': SYSTEM,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': queue,
      };
      if (call.specs.length > 1) attributes['messaging.batch.message_count'] = call.specs.length;
      const span = tracer.startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, attributes });
      const sc = span.spanContext();
      if (!span.isRecording() && !trace.isSpanContextValid(sc)) return write(call.specs); // no SDK, no parent: nothing to carry
      const traceparent = formatTraceparent(sc);
      try {
        const ids = await context.with(trace.setSpan(context.active(), span), () =>
          write(call.specs.map((s) => withTraceparent(s, traceparent))),
        );
        if (ids.length === 1) span.setAttribute('messaging.message.id', ids[0]);
        span.setStatus({ code: SpanStatusCode.OK });
        return ids;
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
    options.registry,
  );
}

/** How a run ended, as the span's `oddjob.job.outcome`. */
export type RunOutcome = 'succeeded' | 'retry' | 'failed';

/**
 * A CONSUMER span `process <queue>` per run, started at `job:started` as a child of the traceparent
 * in the job's metadata (or a root span without one) and ended at its outcome event. Returns a
 * function that removes the listeners.
 *
 * Inside the job's own code (in-process runs) the span is the active context, through the shell's
 * `aroundRun`: spans the job makes itself, and the spans of the libraries it calls (HTTP, pg, ...),
 * are its children. Sandboxed runs execute in another thread and do not see it.
 */
export function instrumentShell(shell: ExecutorEventSource): () => void {
  const open = new Map<string, Span>();
  const MAX_OPEN = 100_000;
  const end = (id: string, outcome: RunOutcome, error?: { message?: string }): void => {
    if (open.size === 0) return;
    const span = open.get(id);
    if (span === undefined) return;
    open.delete(id);
    span.setAttribute('oddjob.job.outcome', outcome);
    switch (outcome) {
      case 'succeeded':
        span.setStatus({ code: SpanStatusCode.OK });
        break;
      case 'retry':
      case 'failed':
        span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? outcome });
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${String(never)}`);
      }
    }
    span.end();
  };
  const offs = [
    shell.on('job:started', ({ queue, job }) => {
      // No SDK: the span would be a non-recording one that nothing reads (it is kept only when it
      // records), so skip making it, its attributes and the traceparent parse.
      if (noSdk()) return;
      const parent = parseTraceparent(job.metadata?.[TRACEPARENT_KEY]);
      const parentContext: Context = parent === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
      const span = trace.getTracer(TRACER_NAME).startSpan(
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': SYSTEM,
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': queue,
            'messaging.message.id': job.id,
            'oddjob.job.target': job.target,
            'oddjob.job.method': job.method,
            'oddjob.job.attempt': job.attempts,
          },
        },
        parentContext,
      );
      // Without an SDK the span records nothing: keep no state for it (the no-op stays cheap).
      if (!span.isRecording()) return;
      if (open.size >= MAX_OPEN) open.clear();
      open.set(job.id, span);
    }),
    // The run's span as the active context around the job's method (job:started came just before).
    ...(typeof shell.aroundRun === 'function'
      ? [
          shell.aroundRun((job, run) => {
            const span = open.size === 0 ? undefined : open.get(job.id);
            return span === undefined ? run() : context.with(trace.setSpan(context.active(), span), run);
          }),
        ]
      : []),
    // With no span open (no SDK) the outcome listeners and the wrapper cost one size check.
    shell.on('job:succeeded', ({ job }) => end(job.id, 'succeeded')),
    shell.on('job:retry', ({ job, error }) => end(job.id, 'retry', error)),
    shell.on('job:failed', ({ job, error }) => end(job.id, 'failed', error)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
