/**
 * Bounded capture of a program's output. A program may write gigabytes; the executor keeps only
 * fixed-size pieces of it, so memory stays flat whatever the program does.
 */

export type Stream = 'stdout' | 'stderr';

/** Splits a byte stream into text lines. A line longer than `maxLine` bytes is cut into pieces. */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  /** `onLine` gets a copy of the line's bytes (never a view pinning a large chunk), without the newline. */
  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      // Cut at maxLine so a newline-free stream (binary, `yes | tr -d '\n'`) cannot grow one line without bound.
      while (end - start + this.partialBytes >= this.maxLine) {
        const take = this.maxLine - this.partialBytes;
        this.partial.push(chunk.subarray(start, start + take));
        this.flush();
        start += take;
      }
      if (nl === -1) {
        if (start < chunk.length) {
          this.partial.push(chunk.subarray(start));
          this.partialBytes += chunk.length - start;
        }
        return;
      }
      this.partial.push(chunk.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
  }

  /** Emits what is left without a final newline. */
  end(): void {
    if (this.partialBytes > 0 || this.partial.length > 0) this.flush();
  }

  private flush(): void {
    const bytes = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    this.onLine(bytes);
  }
}

/**
 * Bytes as printable text: invalid UTF-8 becomes U+FFFD and control characters (NUL, escape, ...)
 * become U+FFFD too, so binary output cannot corrupt a log or a terminal. A trailing CR is dropped.
 */
export function toText(bytes: Buffer): string {
  let s = bytes.toString('utf8');
  if (s.endsWith('\r')) s = s.slice(0, -1);
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\uFFFD');
}

/**
 * Keeps the last `maxSize` (bytes, roughly characters) of items and counts what it dropped. Items
 * stay raw until read: turning 200 MB of output into text only to drop it is most of the cost.
 */
export class TailBuffer<T> {
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private size = 0;
  droppedItems = 0;
  droppedSize = 0;

  constructor(private readonly maxSize: number) {}

  push(item: T, size: number): void {
    this.items.push(item);
    this.sizes.push(size);
    this.size += size;
    // Always keep the newest item, even if it alone is over the bound (lines are cut to maxLineBytes).
    while (this.size > this.maxSize && this.head < this.items.length - 1) {
      const gone = this.sizes[this.head];
      this.items[this.head++] = undefined as T; // let it be collected
      this.size -= gone;
      this.droppedItems++;
      this.droppedSize += gone;
    }
    // Compact now and then so the arrays do not keep growing with dropped slots.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  kept(): T[] {
    return this.items.slice(this.head);
  }
}

/** A tail of raw lines as text, led by a truncation marker when anything was dropped. */
export function tailText(tail: TailBuffer<Buffer>): string {
  const kept = tail.kept().map(toText);
  if (tail.droppedItems > 0) kept.unshift(truncationMarker(tail.droppedItems, tail.droppedSize));
  return kept.join('\n');
}

export function truncationMarker(lines: number, bytes: number): string {
  return `[oddjob: ${lines} earlier line(s), ${bytes} byte(s), truncated]`;
}

/** `2026-12-01T23:10:00.123Z stdout | text`: one line of the interleaved transcript. */
export function stamped(at: Date, stream: Stream, line: string): string {
  return `${at.toISOString()} ${stream} | ${line}`;
}
