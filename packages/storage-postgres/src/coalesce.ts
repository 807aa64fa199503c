/**
 * Turns many single-key requests made in one turn of the event loop into one batched call. For
 * waitForJob: one NOTIFY wakes up to a hundred waiters at once and each re-reads its job, and a
 * thousand waiters started together each mark theirs; one statement for all of them costs about
 * what one of them would (measured: 1,000 waiters woken, 1,000 queries → a handful).
 *
 * Requests are collected until the next setImmediate, then `run` gets the distinct keys (at most
 * `max` per call) and answers a value per key it knows; the others get `missing`. A failed batch
 * fails every request in it, as a failed single call would.
 */
export class Coalescer<V> {
  private pending = new Map<string, { resolve(value: V): void; reject(err: unknown): void }[]>();
  private scheduled = false;

  constructor(
    private readonly run: (keys: string[]) => Promise<Map<string, V>>,
    private readonly missing: V,
    private readonly max = 1000,
  ) {}

  get(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let waiting = this.pending.get(key);
      if (!waiting) this.pending.set(key, (waiting = []));
      waiting.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let from = 0; from < keys.length; from += this.max) {
      const chunk = keys.slice(from, from + this.max);
      this.run(chunk).then(
        (values) => {
          for (const key of chunk) for (const w of batch.get(key)!) w.resolve(values.get(key) ?? this.missing);
        },
        (err: unknown) => {
          for (const key of chunk) for (const w of batch.get(key)!) w.reject(err);
        },
      );
    }
  }
}
