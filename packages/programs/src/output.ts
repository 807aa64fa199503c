import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { JobContext } from '@oddjob/core';
import { LineSplitter, stamped, TailBuffer, tailText, toText, truncationMarker, type Stream } from './capture.js';
import { MARKER, parseProtocolLine, type LogLevel } from './protocol.js';

const MARKER_BYTES = Buffer.from(MARKER);

interface Entry {
  at: number;
  stream: Stream;
  bytes: Buffer;
}

export interface OutputLimits {
  /** Longest line kept whole; longer ones are cut into pieces of this size. Default 8 KiB. */
  readonly maxLineBytes: number;
  /** Characters of output written live to the job's log before it switches to keeping the tail. Default 16 KiB. */
  readonly logHeadChars: number;
  /** Characters of the interleaved tail written to the log at the end when the head was exceeded. Default 32 KiB. */
  readonly logTailChars: number;
  /** Characters of stdout kept for the result, and of stderr kept for the error. Default 4 KiB each. */
  readonly tailChars: number;
  /** Directory for full transcripts (`<jobId>-<timestamp>.log`); none when absent. */
  readonly outputDir: string | undefined;
  /** Bytes written to one transcript file before it is cut with a marker. Default 100 MiB. */
  readonly fileMaxBytes: number;
}

export const DEFAULT_LIMITS: OutputLimits = Object.freeze({
  maxLineBytes: 8 * 1024,
  logHeadChars: 16 * 1024,
  logTailChars: 32 * 1024,
  tailChars: 4 * 1024,
  outputDir: undefined,
  fileMaxBytes: 100 * 1024 * 1024,
});

/**
 * Where program output goes: the run's stored log (`ctx.logAt`, readable with listLogs, the CLI and
 * the dashboard), or the logger when the context has no stored log (a context made by hand, or an
 * executor older than run logs).
 */
type LogFn = (level: LogLevel, text: string) => void;

function logFunction(ctx: JobContext, program: string): LogFn {
  const logAt = (ctx as Partial<JobContext>).logAt;
  if (typeof logAt === 'function') {
    return (level, text) => {
      try {
        logAt.call(ctx, level, text);
      } catch {
        ctx.logger[level]({ program }, text);
      }
    };
  }
  return (level, text) => ctx.logger[level]({ program }, text);
}

/**
 * Everything the program writes goes through here: protocol lines become progress or log lines,
 * the rest is logged (head live, tail at the end), kept as bounded tails, and copied to a file.
 */
export class OutputSink {
  private readonly log: LogFn;
  private readonly stdoutTail: TailBuffer<Buffer>;
  private readonly stderrTail: TailBuffer<Buffer>;
  private readonly transcriptTail: TailBuffer<Entry>;
  private readonly splitters: Record<Stream, LineSplitter>;
  private loggedChars = 0;
  private file: WriteStream | null = null;
  private fileBytes = 0;
  readonly filePath: string | undefined;
  private progressBusy = false;
  private progressNext: { percent: number; message: string | undefined } | null = null;
  private progressDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: JobContext,
    program: string,
    private readonly limits: OutputLimits,
    now: Date,
  ) {
    this.log = logFunction(ctx, program);
    this.stdoutTail = new TailBuffer<Buffer>(limits.tailChars);
    this.stderrTail = new TailBuffer<Buffer>(limits.tailChars);
    this.transcriptTail = new TailBuffer<Entry>(limits.logTailChars);
    this.splitters = {
      stdout: new LineSplitter(limits.maxLineBytes, (l) => this.line('stdout', l)),
      stderr: new LineSplitter(limits.maxLineBytes, (l) => this.line('stderr', l)),
    };
    if (limits.outputDir !== undefined) {
      const stamp = now.toISOString().replace(/[:.]/g, '-');
      this.filePath = join(limits.outputDir, `${ctx.jobId}-${stamp}.log`);
      this.file = createWriteStream(this.filePath, { flags: 'wx' });
      // A failing transcript file must not fail the job: the log and the tails still hold the output.
      this.file.on('error', (err) => {
        ctx.logger.warn({ err, program, file: this.filePath }, 'oddjob: program transcript file failed');
        this.file = null;
      });
    }
  }

  write(stream: Stream, chunk: Buffer): void {
    this.splitters[stream].push(chunk);
  }

  private line(stream: Stream, bytes: Buffer): void {
    if (stream === 'stdout' && bytes.subarray(0, MARKER_BYTES.length).equals(MARKER_BYTES)) {
      const msg = parseProtocolLine(toText(bytes));
      if (msg !== null) {
        switch (msg.kind) {
          case 'progress':
            this.progress(msg.percent, msg.message);
            return;
          case 'log':
            this.log(msg.level, msg.text);
            return;
          default: {
            const never: never = msg;
            return never;
          }
        }
      }
    }
    (stream === 'stdout' ? this.stdoutTail : this.stderrTail).push(bytes, bytes.length + 1);
    const at = Date.now();
    // Text is made only for what is written now (the log head, the file); the rest stays raw until the end.
    if (this.file !== null && this.fileBytes < this.limits.fileMaxBytes)
      this.toFile(stamped(new Date(at), stream, toText(bytes)));
    if (this.loggedChars < this.limits.logHeadChars) {
      const entry = stamped(new Date(at), stream, toText(bytes));
      this.loggedChars += entry.length + 1;
      this.log(stream === 'stderr' ? 'warn' : 'info', entry);
    } else {
      this.transcriptTail.push({ at, stream, bytes }, bytes.length + 34);
    }
  }

  /** One progress write at a time; a program reporting faster than storage keeps only its latest report. */
  private progress(percent: number, message: string | undefined): void {
    this.progressNext = { percent, message };
    if (this.progressBusy) return;
    this.progressBusy = true;
    this.progressDone = (async () => {
      while (this.progressNext !== null) {
        const p = this.progressNext;
        this.progressNext = null;
        await this.ctx.reportProgress(p.message === undefined ? p.percent : { percent: p.percent, message: p.message });
      }
      this.progressBusy = false;
    })();
  }

  private toFile(entry: string): void {
    if (this.file === null) return;
    this.fileBytes += Buffer.byteLength(entry) + 1;
    this.file.write(
      this.fileBytes >= this.limits.fileMaxBytes
        ? `[oddjob: transcript cut at ${this.limits.fileMaxBytes} bytes]\n`
        : `${entry}\n`,
    );
  }

  /** Flushes partial lines, writes the kept tail to the log if the head was exceeded, closes the file. */
  async finish(): Promise<void> {
    this.splitters.stdout.end();
    this.splitters.stderr.end();
    const t = this.transcriptTail;
    const kept = t.kept();
    if (kept.length > 0) {
      this.log(
        'info',
        `[oddjob: output over ${this.limits.logHeadChars} characters; ${t.droppedItems} line(s) not logged; the last ${kept.length} follow]`,
      );
      for (const e of kept)
        this.log(e.stream === 'stderr' ? 'warn' : 'info', stamped(new Date(e.at), e.stream, toText(e.bytes)));
    }
    await this.progressDone;
    const file = this.file;
    this.file = null;
    if (file !== null) await new Promise<void>((resolve) => file.end(resolve));
  }

  stdout(): string {
    return tailText(this.stdoutTail);
  }
  stderr(): string {
    return tailText(this.stderrTail);
  }
}

export { truncationMarker };
