import type { JobLogger } from '@oddjob/core';
import { pino } from 'pino';

/**
 * The logger used when none is given: pino (fast, structured JSON, the usual choice in Node services)
 * at `ODDJOB_LOG_LEVEL` or 'info'. Any object with debug/info/warn/error(obj, msg) fits JobLogger.
 */
export function defaultLogger(): JobLogger {
  return pino({ name: 'oddjob', level: process.env.ODDJOB_LOG_LEVEL ?? 'info' });
}

/** A logger that drops everything: for benchmarks and tests that assert on other things. */
export const silentLogger: JobLogger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
});
