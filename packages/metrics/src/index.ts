export { collectMetrics, enqueuedCounter, ENQUEUED_COUNTER, type CollectMetricsOptions } from './metrics.js';
export { countedAdder } from './counted-adder.js';
export { serveMetrics, dashboardMetrics, type MetricsServer } from './serve.js';
export {
  tracedAdder,
  instrumentShell,
  formatTraceparent,
  parseTraceparent,
  TRACEPARENT_KEY,
  type RunOutcome,
} from './tracing.js';
export { wrapAdder, type AddCall } from './adders.js';
export type { ExecutorEventSource } from './events.js';
