/**
 * Polls `probe` until it answers something other than undefined/false, or the deadline passes.
 * Tests wait on observable state with a generous deadline instead of sleeping a guessed time, so a
 * slow machine makes them slower, not red. `probe` may throw to fail the wait at once (e.g. a child
 * process died).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs: number; intervalMs?: number; status?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      const status = options.status ? `; ${options.status()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${status}`);
    }
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
