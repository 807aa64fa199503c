import type { Metric, Registry } from 'prom-client';

/** One labelled series: counts per bucket (the last one is +Inf), their sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** A bucket found by a short scan and three additions: no allocation, no label hashing. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return; // prom-client would throw; a listener has nobody to throw to
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface HistogramValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram whose series are plain counters, handed to prom-client's registry as values when it
 * is read, instead of a prom-client `Histogram`: that one's `observe` builds a label hash string,
 * checks the labels and allocates on every call — about 1 µs per observation, two per job, where
 * the executor's own cost per job is a few µs. The registry still writes the text format (the
 * values are the same objects prom-client's Histogram gives it, in the same order: cumulative `le`
 * buckets, `+Inf`, `_sum`, `_count`); a test compares the two outputs for the same observations.
 *
 * It is registered through `registerMetric`, whose type names prom-client's classes while the
 * registry only calls `get()` and `reset()` on a metric and reads its name, help and type.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  // Never trimmed, like prom-client's own map of labelled children: label sets are few and fixed.
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    const bounds = [...buckets].sort((a, b) => a - b);
    if (bounds.some((b) => !Number.isFinite(b)))
      throw new TypeError(`${name}: buckets must be finite numbers, got ${String(buckets)}`);
    this.bounds = bounds;
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (in `labelNames` order); look it up once and keep it. */
  labels(...values: string[]): HistogramSeries {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      this.series.set(key, (s = new HistogramSeries(labels, this.bounds)));
    }
    return s;
  }

  /** Like prom-client's Histogram.get(): series never observed (or since a reset) are left out. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i];
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** registry.resetMetrics(): zeroes every series in place (callers keep their series objects). */
  reset(): void {
    for (const s of this.series.values()) s.clear();
  }
}
