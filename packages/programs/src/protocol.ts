/**
 * The OddJob-aware program protocol: a program writes a line to stdout that starts with MARKER and
 * continues with one JSON object. Every other line (and a marked line that does not parse) is plain
 * output. Marked lines work from any language and any wrapper (`sh -c`, `env`, a Python script):
 * all it takes is printing a line, and stdout survives wrappers that do not pass extra file descriptors.
 *
 *   ::oddjob:: {"progress": 40, "message": "copied 4 of 10"}
 *   ::oddjob:: {"log": "checkpoint written", "level": "info"}
 */
export const MARKER = '::oddjob:: ';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ProtocolMessage =
  | { readonly kind: 'progress'; readonly percent: number; readonly message: string | undefined }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly text: string };

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The message a stdout line carries, or null for plain output. Never throws. */
export function parseProtocolLine(line: string): ProtocolMessage | null {
  if (!line.startsWith(MARKER)) return null;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(MARKER.length));
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.progress === 'number' && Number.isFinite(v.progress)) {
    const percent = Math.min(100, Math.max(0, v.progress));
    return { kind: 'progress', percent, message: typeof v.message === 'string' ? v.message.slice(0, 1000) : undefined };
  }
  if (typeof v.log === 'string') {
    const level = LEVELS.includes(v.level as LogLevel) ? (v.level as LogLevel) : 'info';
    return { kind: 'log', level, text: v.log };
  }
  return null;
}
